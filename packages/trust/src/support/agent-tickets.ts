import type { Store } from '@parley/store';
import { fileSupportRequest } from './inbound.ts';

/*
 * Support tickets from agent conversations: when a run is started for an end user (the run's
 * `userId`, which connectors set to the person on their side), the user's message goes through
 * the same path as `support.open_ticket`: on a conversation that has a ticket it is added to
 * it; otherwise a message the classifier calls a support request opens one (channel `agent`,
 * the conversation as its thread, the end user as requester). The agent's own replies do not
 * count as the first response: a person answers the ticket. Never fails or delays the run.
 */

export interface UserMessage {
  workspaceId: string;
  conversationId: string;
  userId: string;
  text: string;
}

export const AGENT_CHANNEL = 'agent';

/** Where a failure to file a ticket is reported (the server's logger fits). */
export interface TrustLog {
  warn(fields: Record<string, unknown>, message: string): void;
}

export function createConversationTicketing(options: {
  store: Store;
  now: () => Date;
  log: TrustLog;
}) {
  const pending = new Set<Promise<void>>();

  async function handle(message: UserMessage): Promise<void> {
    const text = message.text.trim().slice(0, 20_000);
    if (!text) return;
    await options.store.withWorkspace(
      message.workspaceId,
      (ws) =>
        fileSupportRequest(
          ws,
          {
            channel: AGENT_CHANNEL,
            threadId: message.conversationId,
            requester: message.userId.slice(0, 320),
            text,
          },
          options.now(),
        ),
      { actor: { type: 'system' } },
    );
  }

  return {
    /** Looks at an end user's message in the background. */
    observe(message: UserMessage): void {
      const work = handle(message)
        .catch((error) =>
          options.log.warn(
            { err: error, conversationId: message.conversationId },
            'could not file a support ticket from a conversation',
          ),
        )
        .finally(() => pending.delete(work));
      pending.add(work);
    },
    /** Resolves when every message seen so far was handled (shutdown, tests). */
    async settled(): Promise<void> {
      await Promise.all([...pending]);
    },
  };
}
