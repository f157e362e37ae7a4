import type { Ticket, TicketPriority, WorkspaceScope } from '@parley/store';
import { type Classification, classifySupportRequest } from './classifier.ts';
import { supportDesk } from './desk.ts';

/*
 * `support.open_ticket`: a message from a connector thread or an agent conversation. On a
 * thread that has a ticket (not closed) it is added to it, classified or not; otherwise it
 * opens one only if the classifier calls it a support request (docs/trust.md).
 */

export interface SupportRequest {
  channel: string;
  /** The connector thread or conversation: the ticket's `externalKey`. */
  threadId: string;
  requester: string;
  text: string;
  /** Default: the message's first line of text, cut at 120 characters. */
  subject?: string;
  priority?: TicketPriority;
}

export interface FiledRequest {
  classification: Classification;
  /** The ticket it opened or was added to; none when it is not a support request. */
  filed: { ticket: Ticket; created: boolean } | undefined;
}

export async function fileSupportRequest(
  ws: WorkspaceScope,
  request: SupportRequest,
  now: Date,
): Promise<FiledRequest> {
  const classification = classifySupportRequest(request.text);
  const threaded = await ws.support.getThreadTicket(request.channel, request.threadId);
  if (!threaded && !classification.support) return { classification, filed: undefined };
  const filed = await supportDesk(ws).openOrUpdate(
    {
      subject: request.subject ?? subjectOf(request.text),
      channel: request.channel,
      requester: request.requester,
      externalKey: request.threadId,
      body: request.text,
      ...(request.priority ? { priority: request.priority } : {}),
    },
    now,
  );
  return { classification, filed };
}

/** The message on one line, cut at 120 characters. */
function subjectOf(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 120 ? `${line.slice(0, 119)}…` : line;
}
