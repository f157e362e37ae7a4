import {
  type ParleyEvent,
  reduceEvents,
  refusalOf,
  textOf,
  toolCallsOf,
  type UnifiedFinishReason,
  type Usage,
} from '@parley/protocol';
import { HttpProblem } from '../../http/problem.ts';

/*
 * A Parley run as Chat Completions answers: `chat.completion.chunk` objects while it streams,
 * one `chat.completion` when it is over. Text deltas become `content`, a refusal channel
 * `refusal`, calls of the caller's own tools `tool_calls`; what the agent does server-side
 * (its tools, reasoning, memory) stays in the run's own log.
 * @see https://platform.openai.com/docs/api-reference/chat-streaming/streaming
 */

/** What every chunk and completion of one answer repeats. */
export interface CompletionHead {
  /** `chatcmpl-` and the run id. */
  id: string;
  /** Unix seconds. */
  created: number;
  /** The model as the caller named it. */
  model: string;
}

type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

/** OpenAI's finish reason for how the run ended (`tool_calls` only for the caller's tools). */
export function finishReasonOf(unified: UnifiedFinishReason, calledClient: boolean): FinishReason {
  if (calledClient) return 'tool_calls';
  switch (unified) {
    case 'length':
      return 'length';
    case 'content-filter':
      return 'content_filter';
    default:
      return 'stop';
  }
}

/** Parley usage as OpenAI's `usage` (cached and reasoning tokens in the details). */
export function usageOf(usage: Usage) {
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedInputTokens },
    completion_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0 },
  };
}

/** The error a run ended with, as the HTTP status and OpenAI error an SDK raises. */
export function runFailure(terminal: ParleyEvent | undefined): HttpProblem | undefined {
  if (terminal?.type === 'run.error') {
    const rateLimited = terminal.error.code.includes('rate_limit');
    return new HttpProblem(
      rateLimited ? 'request.rate_limited' : 'server.internal',
      `The run failed (${terminal.error.code}): ${terminal.error.message}`,
      rateLimited ? { status: 429 } : { status: 500 },
    );
  }
  if (terminal?.type === 'run.abort')
    return new HttpProblem('server.internal', `The run was ${terminal.reason}.`, { status: 500 });
  return undefined;
}

type Delta = {
  role?: 'assistant';
  content?: string | null;
  refusal?: string | null;
  tool_calls?: {
    index: number;
    id?: string;
    type?: 'function';
    function: { name?: string; arguments: string };
  }[];
};

/**
 * Turns a run's events, in order, into the chunks of a streamed answer: `push` returns the
 * objects to send (each one `data:` frame), an error object when the run failed, and nothing
 * for events the caller does not see. `[DONE]` is the route's.
 */
export function createChunkEncoder(
  head: CompletionHead,
  options: { clientTools: ReadonlySet<string>; includeUsage: boolean },
) {
  const refusals = new Set<string>();
  /** The caller's tool calls by id: their index among its calls in this answer. */
  const calls = new Map<string, number>();
  const chunk = (delta: Delta, finish: FinishReason | null = null) => ({
    id: head.id,
    object: 'chat.completion.chunk' as const,
    created: head.created,
    model: head.model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...(options.includeUsage ? { usage: null } : {}),
  });

  return {
    push(event: ParleyEvent): object[] {
      switch (event.type) {
        case 'run.start':
          return [chunk({ role: 'assistant', content: '', refusal: null })];
        case 'text.start':
          if (event.kind === 'refusal') refusals.add(event.partId);
          return [];
        case 'text.delta':
          if (event.delta === '') return [];
          return [
            chunk(refusals.has(event.partId) ? { refusal: event.delta } : { content: event.delta }),
          ];
        case 'tool_call.start': {
          if (!options.clientTools.has(event.name)) return [];
          const index = calls.size;
          calls.set(event.toolCallId, index);
          return [
            chunk({
              tool_calls: [
                {
                  index,
                  id: event.toolCallId,
                  type: 'function',
                  function: { name: event.name, arguments: '' },
                },
              ],
            }),
          ];
        }
        case 'tool_call.delta': {
          const index = calls.get(event.toolCallId);
          if (index === undefined || event.argsDelta === '') return [];
          return [chunk({ tool_calls: [{ index, function: { arguments: event.argsDelta } }] })];
        }
        case 'run.finish': {
          const frames: object[] = [
            chunk(
              {},
              finishReasonOf(
                event.finishReason.unified,
                event.finishReason.unified === 'tool-calls' && calls.size > 0,
              ),
            ),
          ];
          if (options.includeUsage)
            frames.push({
              id: head.id,
              object: 'chat.completion.chunk',
              created: head.created,
              model: head.model,
              choices: [],
              usage: usageOf(event.usage),
            });
          return frames;
        }
        case 'run.error':
        case 'run.abort': {
          const problem = runFailure(event)!;
          return [
            {
              error: {
                message: problem.message,
                type: problem.status === 429 ? 'requests' : 'server_error',
                param: null,
                code: event.type === 'run.error' ? event.error.code : event.reason,
              },
            },
          ];
        }
        default:
          return [];
      }
    },
  };
}

/** A finished run as one `chat.completion` (a failed or cancelled one throws its error). */
export function completionOf(
  head: CompletionHead,
  events: readonly ParleyEvent[],
  clientTools: ReadonlySet<string>,
) {
  const terminal = events.at(-1);
  const failure = runFailure(terminal);
  if (failure) throw failure;
  if (terminal?.type !== 'run.finish')
    throw new HttpProblem('server.internal', 'The run ended without a result.');
  const state = reduceEvents([...events]);
  const calls = toolCallsOf(state).filter((call) => clientTools.has(call.name));
  const forCaller = terminal.finishReason.unified === 'tool-calls' && calls.length > 0;
  const text = textOf(state);
  const refusal = refusalOf(state);
  return {
    id: head.id,
    object: 'chat.completion' as const,
    created: head.created,
    model: head.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant' as const,
          content: forCaller && text === '' ? null : text,
          refusal: refusal === '' ? null : refusal,
          ...(forCaller
            ? {
                tool_calls: calls.map((call) => ({
                  id: call.toolCallId,
                  type: 'function' as const,
                  function: { name: call.name, arguments: call.argsText },
                })),
              }
            : {}),
          annotations: [],
        },
        logprobs: null,
        finish_reason: finishReasonOf(terminal.finishReason.unified, forCaller),
      },
    ],
    usage: usageOf(terminal.usage),
  };
}
