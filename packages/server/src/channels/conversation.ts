import type { ChatRef, InboundMessage, PlatformOutput } from '@parley/core';
import type { ParleyEvent } from '@parley/protocol';
import type { FastifyBaseLogger } from 'fastify';
import { conversationIdFor } from '../clients/conversation-id.ts';
import { HttpProblem } from '../http/problem.ts';
import type { LiveRun } from '../runs/live-run.ts';
import type { RunManager } from '../runs/run-manager.ts';
import { approvalPrompt, encodeApproval } from './approvals.ts';
import { createReplyWriter, withRetryAfter } from './reply-writer.ts';

/** Telegram's typing indicator lasts 5 s; Slack and Discord are similar. */
const TYPING_EVERY_MS = 4_500;

export interface ChannelTarget {
  workspaceId: string;
  agentId: string;
  platform: string;
}

/** The Parley end user a platform user is: `telegram:42`. */
export const endUserOf = (platform: string, userId: string) => `${platform}:${userId}`;

/** The conversation a chat is: one per agent, platform, chat and thread, the same on every instance. */
export function chatConversationId(target: ChannelTarget, chat: ChatRef): string {
  return conversationIdFor({
    kind: 'channel',
    workspaceId: target.workspaceId,
    agentId: target.agentId,
    principal: { kind: 'anonymous' },
    clientId: JSON.stringify([target.platform, chat.chatId, chat.threadId ?? null]),
  });
}

/**
 * Answers one person's message: a run of the agent in the chat's conversation (the one way
 * into a run other client protocols use, `RunManager.start` with a client conversation), its
 * answer streamed onto the platform by edits, its approval requests as buttons.
 */
export async function answerMessage(
  deps: { runs: RunManager; log: FastifyBaseLogger },
  target: ChannelTarget,
  output: PlatformOutput,
  message: InboundMessage,
): Promise<void> {
  const chat: ChatRef = {
    chatId: message.chatId,
    ...(message.threadId ? { threadId: message.threadId } : {}),
  };
  const typing = keepTyping(output, chat, deps.log);
  let run: LiveRun;
  try {
    run = await deps.runs.start({
      workspaceId: target.workspaceId,
      principal: { kind: 'anonymous' },
      scope: { actor: { type: 'system' } },
      agent: target.agentId,
      body: { input: message.text, userId: endUserOf(target.platform, message.userId) },
      clientConversation: { idFor: () => chatConversationId(target, chat), fresh: false },
    });
  } catch (error) {
    typing.stop();
    const text =
      error instanceof HttpProblem
        ? `The agent cannot answer right now (${error.code}).`
        : 'The agent cannot answer right now.';
    deps.log.warn({ err: error, platform: target.platform }, 'a channel message started no run');
    await withRetryAfter(() => output.send(chat, output.format(text)));
    return;
  }
  try {
    await followRun(run, output, chat, typing);
  } finally {
    typing.stop();
  }
}

async function followRun(
  run: LiveRun,
  output: PlatformOutput,
  chat: ChatRef,
  typing: { stop(): void },
) {
  const writer = createReplyWriter(output, chat);
  const calls = new Map<string, { name: string; args: unknown }>();
  let approvals = 0;
  const handle = async (event: ParleyEvent) => {
    switch (event.type) {
      case 'text.delta':
        writer.append(event.delta);
        return;
      case 'tool_call.complete':
        calls.set(event.toolCallId, { name: event.name, args: event.args });
        return;
      case 'tool.approval_requested': {
        const call = calls.get(event.toolCallId);
        const index = approvals++;
        await writer.seal();
        typing.stop();
        await writer.prompt(approvalPrompt(call?.name ?? 'a tool', call?.args), [
          {
            label: 'Allow',
            data: encodeApproval({ decision: 'approved', runId: run.id, index }),
            style: 'primary',
          },
          {
            label: 'Deny',
            data: encodeApproval({ decision: 'denied', runId: run.id, index }),
            style: 'danger',
          },
        ]);
        return;
      }
      case 'run.error':
        writer.append(`\n\n_The agent stopped: ${event.error.message}_`);
        return;
      default:
        return;
    }
  };
  let cursor = 0;
  for (;;) {
    const events = run.visibleAfter(cursor);
    if (events.length === 0) {
      // A run handed to another instance is followed no further here (docs/channels.md).
      if (run.closed || run.handedOver) break;
      await run.changed();
      continue;
    }
    for (const event of events) {
      cursor = event.seq;
      await handle(event);
    }
  }
  await writer.finish();
}

/** Shows "typing…" until stopped (the platform's indicator lapses by itself after a few seconds). */
function keepTyping(output: PlatformOutput, chat: ChatRef, log: FastifyBaseLogger) {
  const send = () =>
    output.typing(chat).catch((error: unknown) => log.debug({ err: error }, 'typing failed'));
  void send();
  const timer = setInterval(send, TYPING_EVERY_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
