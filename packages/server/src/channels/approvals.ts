import type { ParleyEvent } from '@parley/protocol';

/*
 * What an approval button carries: the decision, the run (its UUID in 22 base64url
 * characters) and which of the run's approval requests it answers. Telegram allows 64 bytes
 * of callback data, Discord 100 characters of custom id: this takes 27.
 */

export interface ApprovalKey {
  decision: 'approved' | 'denied';
  runId: string;
  /** The approval request's position among the run's (0 for its first). */
  index: number;
}

export function encodeApproval(key: ApprovalKey): string {
  const compact = Buffer.from(key.runId.replaceAll('-', ''), 'hex').toString('base64url');
  return `${key.decision === 'approved' ? 'y' : 'n'}:${compact}:${key.index}`;
}

export function decodeApproval(data: string): ApprovalKey | undefined {
  const match = /^([yn]):([A-Za-z0-9_-]{22}):(\d{1,4})$/.exec(data);
  if (!match) return undefined;
  const hex = Buffer.from(match[2]!, 'base64url').toString('hex');
  const runId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { decision: match[1] === 'y' ? 'approved' : 'denied', runId, index: Number(match[3]) };
}

/** The tool call the run's `index`-th approval request is about. */
export function approvalCallOf(events: readonly ParleyEvent[], index: number): string | undefined {
  let seen = 0;
  for (const event of events) {
    if (event.type !== 'tool.approval_requested') continue;
    if (seen === index) return event.toolCallId;
    seen++;
  }
  return undefined;
}

/** What the approval prompt says: the tool and its arguments, shortened. */
export function approvalPrompt(name: string, args: unknown): string {
  const shown = JSON.stringify(args ?? {});
  const short = shown.length > 600 ? `${shown.slice(0, 599)}…` : shown;
  return `The agent wants to call **${name}** with \`${short}\`. Allow it?`;
}
