/*
 * Is an inbound message a support request? A small keyword heuristic, documented in
 * docs/trust.md: a message is a support request when it asks for help (a question or a help
 * phrase) about something a support desk handles, or reports a loss. It decides whether a
 * connector's message opens a ticket; a message on a thread that already has a ticket always
 * goes to that ticket, classified or not.
 */

const HELP =
  /\b(help|support|issue|problem|stuck|can'?t|cannot|unable|doesn'?t work|not working|broken|error|failed|missing|lost|how (do|can|to)|where (is|do|can)|what happened)\b/i;
const TOPIC =
  /\b(migrat\w*|swap\w*|bridge\w*|wallet\w*|token\w*|withdraw\w*|deposit\w*|account\w*|login|log in|sign in|password|refund\w*|transaction\w*|balance\w*|claim\w*|airdrop\w*|scam\w*|hack\w*|drain\w*|stolen|exchange\w*|fund\w*)\b/i;
const LOSS = /\b(stolen|drained|hacked|scammed|lost (my|all)|missing funds)\b/i;

export interface Classification {
  support: boolean;
  /** Which rule matched, for the ticket's event data and for debugging false positives. */
  reason: 'loss' | 'help_topic' | 'question_topic' | 'none';
}

export function classifySupportRequest(text: string): Classification {
  const sample = text.slice(0, 4_000);
  if (LOSS.test(sample)) return { support: true, reason: 'loss' };
  const topic = TOPIC.test(sample);
  if (topic && HELP.test(sample)) return { support: true, reason: 'help_topic' };
  if (topic && sample.includes('?')) return { support: true, reason: 'question_topic' };
  return { support: false, reason: 'none' };
}
