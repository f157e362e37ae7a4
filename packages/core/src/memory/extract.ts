import type { Evaluator } from '../plugins/define-plugin.ts';

// Statements worth keeping about the user, found without calling a model (deterministic, free).
const PATTERNS: { kind: string; pattern: RegExp; render: (m: RegExpMatchArray) => string }[] = [
  {
    kind: 'profile',
    pattern: /\bmy name is ([\p{L}' -]{2,40})/iu,
    render: (m) => `The user's name is ${m[1]!.trim()}`,
  },
  {
    kind: 'preference',
    pattern: /\bi (?:really )?(like|love|prefer|enjoy|hate|dislike) ([^.!?\n]{2,80})/iu,
    render: (m) => `The user ${m[1]!.toLowerCase()}s ${m[2]!.trim()}`,
  },
  {
    kind: 'profile',
    pattern: /\bi live in ([^.!?\n,]{2,60})/iu,
    render: (m) => `The user lives in ${m[1]!.trim()}`,
  },
  {
    kind: 'profile',
    pattern: /\bi work (?:at|for|as) ([^.!?\n,]{2,60})/iu,
    render: (m) => `The user works ${m[0]!.match(/at|for|as/i)![0].toLowerCase()} ${m[1]!.trim()}`,
  },
  {
    kind: 'note',
    pattern: /\bremember (?:that )?([^\n]{3,200})/iu,
    render: (m) => m[1]!.trim().replace(/[.!?]+$/, ''),
  },
];

/** Extracts facts the user stated about themselves and stores them as user-scoped memories. */
export const extractUserFacts: Evaluator = {
  name: 'memory.extract-user-facts',
  async evaluate({ input, memory }) {
    for (const { kind, pattern, render } of PATTERNS) {
      const match = input.match(pattern);
      if (match) await memory.remember(render(match), { kind, scope: 'user' });
    }
  },
};
