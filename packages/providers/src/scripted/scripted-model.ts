import { emptyUsage, type StepEventPayload, streamError, type Usage } from '@parley/protocol';
import type {
  EmbedOptions,
  LanguageModel,
  ModelMessage,
  ModelRequest,
  StreamOptions,
} from '../model.ts';
import { runAttempts } from '../shared/attempts.ts';
import { createOpenParts } from '../shared/open-parts.ts';
import { sleep } from '../shared/retry.ts';
import { startStepTimer } from '../shared/step-timer.ts';
import { completeToolCall } from '../shared/tool-call-args.ts';
import type { ScriptAction, ScriptTurn } from './script.ts';

export interface ScriptedModelSettings {
  model?: string;
  /** One turn per model call (each retry attempt consumes one too). Default: echo forever. */
  script?: ScriptTurn[];
  /** Pause between text deltas, to look like streaming (default 0). */
  chunkDelayMs?: number;
  maxRetries?: number;
  /** Wait before a retry (default: the error's retryAfterMs, else 0: scripts need no backoff). */
  retryDelayMs?: number;
}

const words = (text: string) => text.match(/\S+\s*|\s+/g) ?? [];
const halves = (text: string) => {
  const middle = Math.ceil(text.length / 2);
  return text.length < 2 ? [text] : [text.slice(0, middle), text.slice(middle)];
};
const estimateTokens = (chars: number) => Math.ceil(chars / 4);

function lastUserText(messages: ModelMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i]!;
    if (message.role !== 'user') continue;
    if (typeof message.content === 'string') return message.content;
    return message.content.map((part) => (part.type === 'text' ? part.text : '[image]')).join(' ');
  }
  return '';
}

function promptChars(messages: ModelMessage[]): number {
  return JSON.stringify(messages).length;
}

/**
 * An offline model that plays a script. It is not a language model and says so: its replies
 * in echo mode start with "(scripted)".
 */
export function createScriptedModel(settings: ScriptedModelSettings = {}): LanguageModel {
  const model = settings.model ?? 'echo';
  let calls = 0;
  // Part ids are unique per model instance, as a real provider's are: a run continued on
  // another server (failover) talks to a new instance, and its parts must not reuse ids.
  const tag = Math.random().toString(36).slice(2, 6);
  const nextTurn = (request: ModelRequest): ScriptTurn | undefined => {
    const turnIndex = calls++;
    if (!settings.script)
      return [{ type: 'text', text: `(scripted) ${lastUserText(request.messages)}` }];
    return settings.script[turnIndex];
  };

  return {
    provider: 'scripted',
    model,
    stream(request: ModelRequest, options: StreamOptions = {}) {
      return runAttempts(
        {
          provider: 'scripted',
          model,
          stepIndex: options.stepIndex ?? 0,
          maxRetries: settings.maxRetries ?? 2,
          signal: options.signal,
          delayMs: (error) => error.retryAfterMs ?? settings.retryDelayMs ?? 0,
        },
        ({ retries, signal }) =>
          playTurn(nextTurn(request), request, {
            retries,
            signal,
            calls,
            tag,
            chunkDelayMs: settings.chunkDelayMs ?? 0,
          }),
      );
    },
    async embed(texts: string[], options: EmbedOptions = {}) {
      // Deterministic bag-of-characters vectors, NOT semantic: texts sharing letters get
      // similar vectors, synonyms do not. It lets the whole embedding path run offline.
      const dimensions = options.dimensions ?? 64;
      const embeddings = texts.map((text) => {
        const vector = new Array<number>(dimensions).fill(0);
        for (const char of text.toLowerCase()) vector[char.codePointAt(0)! % dimensions]! += 1;
        const norm = Math.hypot(...vector) || 1;
        return vector.map((x) => x / norm);
      });
      return {
        embeddings,
        model,
        dimensions,
        usage: { inputTokens: estimateTokens(texts.join('').length) },
      };
    },
  };
}

interface PlayContext {
  retries: number;
  signal: AbortSignal | undefined;
  calls: number;
  /** This model instance's mark in part ids. */
  tag: string;
  chunkDelayMs: number;
}

async function* playTurn(
  turn: ScriptTurn | undefined,
  request: ModelRequest,
  context: PlayContext,
): AsyncGenerator<StepEventPayload> {
  const timer = startStepTimer();
  const parts = createOpenParts();
  const { signal } = context;
  timer.headers();
  let outputChars = 0;
  let sawToolCall = false;
  let finish: Extract<ScriptAction, { type: 'finish' }> | undefined;
  let partNo = 0;
  const newId = (prefix: string) => `${prefix}${context.tag}${context.calls}_${partNo++}`;

  const fail = function* (error: ReturnType<typeof streamError>): Generator<StepEventPayload> {
    yield* parts.closeAll(`interrupted: ${error.code}`);
    yield {
      type: 'step.finish',
      finishReason: { unified: 'error' },
      timing: timer.finish(undefined, context.retries),
      error,
    };
  };
  const cancelled = () => streamError('cancelled', 'the request was cancelled');

  if (!turn) {
    yield* fail(streamError('internal', `the script has no turn for model call ${context.calls}`));
    return;
  }

  for (const action of turn) {
    if (signal?.aborted) return yield* fail(cancelled());
    switch (action.type) {
      case 'text':
      case 'refusal': {
        const partId = newId('txt');
        yield parts.track(
          action.type === 'refusal'
            ? { type: 'text.start', partId, kind: 'refusal' }
            : { type: 'text.start', partId },
        );
        for (const delta of action.type === 'text'
          ? (action.deltas ?? words(action.text))
          : [action.text]) {
          if (context.chunkDelayMs > 0 && !(await sleep(context.chunkDelayMs, signal)))
            return yield* fail(cancelled());
          timer.content('text');
          outputChars += delta.length;
          yield { type: 'text.delta', partId, delta };
        }
        yield parts.track({ type: 'text.end', partId });
        break;
      }
      case 'reasoning': {
        const partId = newId('rsn');
        yield parts.track({ type: 'reasoning.start', partId, visibility: 'full' });
        timer.content('reasoning');
        outputChars += action.text.length;
        yield { type: 'reasoning.delta', partId, delta: action.text };
        yield parts.track(
          action.signature
            ? {
                type: 'reasoning.end',
                partId,
                replay: { provider: 'scripted', signature: action.signature },
              }
            : { type: 'reasoning.end', partId },
        );
        break;
      }
      case 'tool_call': {
        sawToolCall = true;
        const toolCallId = action.id ?? newId('call_');
        const argsText = action.argsText ?? JSON.stringify(action.args ?? {});
        yield parts.track({ type: 'tool_call.start', toolCallId, name: action.name, index: 0 });
        timer.content('tool_call');
        for (const argsDelta of action.deltas ?? halves(argsText)) {
          outputChars += argsDelta.length;
          yield parts.track({ type: 'tool_call.delta', toolCallId, argsDelta });
        }
        yield parts.track(completeToolCall(toolCallId, action.name, argsText));
        break;
      }
      case 'delay':
        if (!(await sleep(action.ms, signal))) return yield* fail(cancelled());
        break;
      case 'hang':
        await new Promise<void>((resolve) => {
          if (signal?.aborted) return resolve();
          signal?.addEventListener('abort', () => resolve(), { once: true });
        });
        return yield* fail(cancelled());
      case 'error': {
        const error = streamError(action.code, action.message ?? `scripted ${action.code} error`, {
          provider: 'scripted',
          ...(action.retryAfterMs === undefined ? {} : { retryAfterMs: action.retryAfterMs }),
        });
        if (action.retryable !== undefined) error.retryable = action.retryable;
        return yield* fail(error);
      }
      case 'finish':
        finish = action;
        break;
    }
  }

  const usage: Usage = {
    ...emptyUsage(),
    inputTokens: estimateTokens(promptChars(request.messages)),
    outputTokens: estimateTokens(outputChars),
    ...finish?.usage,
  };
  const unified = finish?.reason ?? (sawToolCall ? 'tool-calls' : 'stop');
  yield { type: 'usage', usage };
  yield {
    type: 'step.finish',
    finishReason: finish?.raw ? { unified, raw: finish.raw } : { unified },
    usage,
    timing: timer.finish(usage.outputTokens, context.retries),
  };
}
