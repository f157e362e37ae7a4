import type { Store } from '@parley/store';
import type { FastifyBaseLogger } from 'fastify';
import { classifySupportRequest } from './classifier.ts';

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

export function createConversationTicketing(options: {
  store: Store;
  now: () => Date;
  log: FastifyBaseLogger;
}) {
  const pending = new Set<Promise<void>>();

  async function handle(message: UserMessage): Promise<void> {
    const text = message.text.trim().slice(0, 20_000);
    if (!text) return;
    const support = classifySupportRequest(text).support;
    await options.store.withWorkspace(
      message.workspaceId,
      async (ws) => {
        const thread = await ws.support.getThreadTicket(AGENT_CHANNEL, message.conversationId);
        if (!thread && !support) return;
        const line = text.replace(/\s+/g, ' ');
        await ws.support.openOrUpdate(
          {
            subject: line.length > 120 ? `${line.slice(0, 119)}…` : line,
            channel: AGENT_CHANNEL,
            requester: message.userId.slice(0, 320),
            externalKey: message.conversationId,
            body: text,
          },
          options.now(),
        );
      },
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
