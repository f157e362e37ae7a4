import type { ParleyEvent } from '@parley/protocol';

/**
 * The AI SDK's UI message stream (protocol v1, as the `ai` package defines it: majors 5, 6
 * and 7) from a Parley run's events: what `useChat` and `readUIMessageStream` read. One
 * encoder per response; it maps each Parley Stream v1 event to zero or more UI message
 * chunks, each an SSE `data:` frame, and ends the stream with `data: [DONE]` after the run's
 * terminal event. See docs/clients.md#ai-sdk-usechat.
 */

/** The response headers of a UI message stream (`UI_MESSAGE_STREAM_HEADERS` in `ai`). */
export const UI_MESSAGE_STREAM_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-vercel-ai-ui-message-stream': 'v1',
  'x-accel-buffering': 'no',
} as const;

/** A UI message chunk (`UIMessageChunk` in `ai`), the subset Parley sends. */
export type UIMessageChunk =
  | { type: 'start'; messageId: string; messageMetadata?: unknown }
  | { type: 'start-step' }
  | { type: 'finish-step' }
  | { type: 'reset-step' }
  | { type: 'text-start' | 'text-end' | 'reasoning-start' | 'reasoning-end'; id: string }
  | { type: 'text-delta' | 'reasoning-delta'; id: string; delta: string }
  | { type: 'tool-input-start'; toolCallId: string; toolName: string }
  | { type: 'tool-input-delta'; toolCallId: string; inputTextDelta: string }
  | { type: 'tool-input-available'; toolCallId: string; toolName: string; input: unknown }
  | {
      type: 'tool-input-error';
      toolCallId: string;
      toolName: string;
      input: unknown;
      errorText: string;
    }
  | { type: 'tool-output-available'; toolCallId: string; output: unknown }
  | { type: 'tool-output-error'; toolCallId: string; errorText: string }
  | { type: 'error'; errorText: string }
  | { type: 'abort'; reason?: string }
  | {
      type: 'finish';
      finishReason?: 'stop' | 'length' | 'content-filter' | 'tool-calls' | 'error' | 'other';
      messageMetadata?: unknown;
    };

/** What a message's metadata carries: the Parley run and conversation behind it. */
export interface ParleyMessageMetadata {
  runId: string;
  conversationId?: string;
}

export const DONE_FRAME = 'data: [DONE]\n\n';

const frame = (chunk: UIMessageChunk) => `data: ${JSON.stringify(chunk)}\n\n`;

/**
 * A stateful mapper: Parley events in order (from seq 1 for a replay) → UI message chunks.
 * The message id is the run id, so a replay after a reload rebuilds the same message.
 */
export function createUIMessageMapper() {
  const toolNames = new Map<string, string>();
  let runId = '';

  function map(event: ParleyEvent): UIMessageChunk[] {
    switch (event.type) {
      case 'run.start': {
        runId = event.runId;
        const metadata: ParleyMessageMetadata = {
          runId: event.runId,
          ...(event.conversationId ? { conversationId: event.conversationId } : {}),
        };
        return [{ type: 'start', messageId: event.runId, messageMetadata: metadata }];
      }
      case 'step.start':
        return [{ type: 'start-step' }];
      case 'step.finish':
        return [{ type: 'finish-step' }];
      case 'step.reset':
        // The step's parts are dropped (a retry, a fallback or a failover follows).
        return [{ type: 'reset-step' }];
      case 'text.start':
        return [{ type: 'text-start', id: event.partId }];
      case 'text.delta':
        return [{ type: 'text-delta', id: event.partId, delta: event.delta }];
      case 'text.end':
        return [{ type: 'text-end', id: event.partId }];
      case 'reasoning.start':
        return [{ type: 'reasoning-start', id: event.partId }];
      case 'reasoning.delta':
        return [{ type: 'reasoning-delta', id: event.partId, delta: event.delta }];
      case 'reasoning.end':
        return [{ type: 'reasoning-end', id: event.partId }];
      case 'tool_call.start':
        toolNames.set(event.toolCallId, event.name);
        return [{ type: 'tool-input-start', toolCallId: event.toolCallId, toolName: event.name }];
      case 'tool_call.delta':
        return [
          {
            type: 'tool-input-delta',
            toolCallId: event.toolCallId,
            inputTextDelta: event.argsDelta,
          },
        ];
      case 'tool_call.complete':
        return [
          {
            type: 'tool-input-available',
            toolCallId: event.toolCallId,
            toolName: event.name,
            input: event.args,
          },
        ];
      case 'tool_call.invalid':
        return [
          {
            type: 'tool-input-error',
            toolCallId: event.toolCallId,
            toolName: toolNames.get(event.toolCallId) ?? event.name,
            input: event.argsText,
            errorText: event.reason,
          },
        ];
      case 'tool.result':
        return event.ok
          ? [{ type: 'tool-output-available', toolCallId: event.toolCallId, output: event.output }]
          : [
              {
                type: 'tool-output-error',
                toolCallId: event.toolCallId,
                errorText: event.error ?? 'The tool failed.',
              },
            ];
      case 'run.finish':
        return [
          { type: 'finish', finishReason: event.finishReason.unified, messageMetadata: { runId } },
        ];
      case 'run.error':
        return [
          { type: 'error', errorText: event.error.message },
          { type: 'finish', finishReason: 'error', messageMetadata: { runId } },
        ];
      case 'run.abort':
        return [{ type: 'abort', reason: event.reason }];
      default:
        // usage, memory, approvals and gaps have no UI message chunk.
        return [];
    }
  }

  /** The SSE frames of one event; the terminal event's end with `data: [DONE]`. */
  function encode(event: ParleyEvent): string {
    const frames = map(event).map(frame).join('');
    const terminal =
      event.type === 'run.finish' || event.type === 'run.error' || event.type === 'run.abort';
    return terminal ? frames + DONE_FRAME : frames;
  }

  return { map, encode };
}
