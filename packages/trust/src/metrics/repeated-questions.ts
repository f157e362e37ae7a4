/*
 * The questions support hears again and again: inbound messages grouped by the overlap of
 * their normalised words (the store gives PostgreSQL's English full-text lexemes).
 */

export interface RepeatedQuestion {
  /** The normalised words the group shares (PostgreSQL English full-text lexemes). */
  terms: string[];
  count: number;
  tickets: number;
  /** The most recent message of the group, shortened. */
  example: string;
}

/** Jaccard similarity at or above which two messages count as the same question. */
export const SIMILARITY = 0.5;

function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  let shared = 0;
  for (const term of a) if (b.has(term)) shared++;
  const union = a.size + b.size - shared;
  return union === 0 ? 0 : shared / union;
}

/**
 * Groups inbound messages (newest first) by the overlap of their lexeme sets: each message
 * joins the first group whose first message it resembles (Jaccard ≥ 0.5), or starts one.
 * Returns the groups of two or more messages, largest first.
 */
export function groupRepeatedQuestions(
  messages: readonly { ticketId: string; body: string; terms: readonly string[] }[],
  top = 10,
): RepeatedQuestion[] {
  const groups: {
    seed: Set<string>;
    terms: string[];
    count: number;
    tickets: Set<string>;
    example: string;
  }[] = [];
  for (const message of messages) {
    const terms = new Set(message.terms);
    if (terms.size === 0) continue;
    const group = groups.find((g) => jaccard(g.seed, terms) >= SIMILARITY);
    if (group) {
      group.count++;
      group.tickets.add(message.ticketId);
      group.terms = group.terms.filter((t) => terms.has(t));
    } else {
      const body = message.body.replace(/\s+/g, ' ').trim();
      groups.push({
        seed: terms,
        terms: [...terms].sort(),
        count: 1,
        tickets: new Set([message.ticketId]),
        example: body.length > 200 ? `${body.slice(0, 199)}…` : body,
      });
    }
  }
  return groups
    .filter((g) => g.count >= 2)
    .sort((a, b) => b.count - a.count)
    .slice(0, top)
    .map((g) => ({ terms: g.terms, count: g.count, tickets: g.tickets.size, example: g.example }));
}
