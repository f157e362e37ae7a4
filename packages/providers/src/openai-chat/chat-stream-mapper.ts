import {
  type FinishReason,
  type ParleyError,
  type StepEventPayload,
  streamError,
  type Usage,
} from '@parley/protocol';
import { errorFromBody } from '../shared/error-body.ts';
import { isRecord, stringOf } from '../shared/json.ts';
import { createPartIds } from '../shared/part-ids.ts';
import type { StreamMapper, StreamOutcome } from '../shared/stream-mapper.ts';
import { completeToolCall } from '../shared/tool-call-args.ts';
import {
  type ChatChunk,
  ChatChunkSchema,
  type ChatToolCallDelta,
  plainTextChunk,
} from './chat-api.ts';
import { chatUsage } from './chat-usage.ts';
import { mapChatFinishReason } from './map-finish-reason.ts';

type ChatDelta = NonNullable<NonNullable<ChatChunk['choices']>[number]['delta']>;

/** A piece of reasoning found in one delta. */
export interface ReasoningPiece {
  text: string;
  visibility: 'full' | 'summary' | 'encrypted';
  /** Provider data to send back verbatim on the next turn (an OpenRouter `reasoning_details` entry). */
  replay?: unknown;
  signature?: string;
}

export interface ChatMapperOptions {
  /** The provider name in errors and in `reasoning.end.replay`. */
  provider: string;
  /** Reads a delta's reasoning; the default takes `reasoning_content`, else `reasoning`. */
  readReasoning?: (delta: ChatDelta) => ReasoningPiece[];
  /** Maps `finish_reason` (and a router's `native_finish_reason`); default: Chat Completions. */
  mapFinish?: (raw: string, native: string | undefined) => FinishReason;
}

const chatFinish = (raw: string): FinishReason => ({ unified: mapChatFinishReason(raw), raw });

/**
 * `reasoning_content` (DeepSeek, vLLM, xAI) or `reasoning` (Ollama, OpenRouter): one of them,
 * never both, since servers that send both send the same text twice.
 */
export function readPlainReasoning(delta: ChatDelta): ReasoningPiece[] {
  const text = delta.reasoning_content || delta.reasoning;
  return text ? [{ text, visibility: 'full' }] : [];
}

/** The text of `delta.content`: a string, or the `text` parts of an array. */
function contentText(content: ChatDelta['content']): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) => (isRecord(part) && part.type === 'text' ? (stringOf(part.text) ?? '') : ''))
    .join('');
}

interface ToolCallState {
  index: number;
  id: string | undefined;
  name: string;
  args: string;
  /** Argument pieces received before the call could start (no name yet). */
  pending: string[];
  started: boolean;
  done: boolean;
}

/**
 * Maps Chat Completions chunks onto step payloads.
 * - Tool calls accumulate by `index` (continuation chunks carry only `index` + `arguments`), a
 *   new `id` at a used index starts a new call, a chunk without index uses its `id`; calls are
 *   completed only at `finish_reason`, never when their text first parses (vercel/ai #13137).
 * - `refusal` deltas go to their own `refusal` text part.
 * - `finish_reason: null` never overwrites a finish (OpenRouter's trailing usage chunk).
 * - Usage comes from whichever chunk carries it (OpenAI: a last chunk with `choices: []`).
 * - An `error` object (or `event: error`) inside the stream ends it with a typed error.
 */
export function createChatStreamMapper(options: ChatMapperOptions): StreamMapper {
  const newId = createPartIds();
  const readReasoning = options.readReasoning ?? readPlainReasoning;
  const mapFinish = options.mapFinish ?? chatFinish;
  let textPart: string | undefined;
  let refusalPart: string | undefined;
  let reasoning: { partId: string; replay: unknown[]; signature?: string } | undefined;
  const calls: ToolCallState[] = [];
  const callAtIndex = new Map<number, ToolCallState>();
  let finishReason: FinishReason | undefined;
  let usage: Usage | undefined;
  let error: ParleyError | undefined;
  let responseId: string | undefined;
  let done = false;

  const fail = (failure: ParleyError) => {
    error ??= failure;
    done = true;
  };

  function reasoningPiece(piece: ReasoningPiece, out: StepEventPayload[]) {
    if (!piece.text && piece.replay === undefined && !piece.signature) return;
    if (!reasoning) {
      reasoning = { partId: newId('rsn'), replay: [] };
      out.push({ type: 'reasoning.start', partId: reasoning.partId, visibility: piece.visibility });
    }
    if (piece.replay !== undefined) reasoning.replay.push(piece.replay);
    if (piece.signature) reasoning.signature = piece.signature;
    if (piece.text)
      out.push({ type: 'reasoning.delta', partId: reasoning.partId, delta: piece.text });
  }

  function endReasoning(out: StepEventPayload[]) {
    if (!reasoning) return;
    const { partId, replay, signature } = reasoning;
    reasoning = undefined;
    if (replay.length === 0 && !signature) {
      out.push({ type: 'reasoning.end', partId });
      return;
    }
    out.push({
      type: 'reasoning.end',
      partId,
      replay: {
        provider: options.provider,
        ...(signature ? { signature } : {}),
        ...(replay.length > 0 ? { data: replay } : {}),
      },
    });
  }

  function textDelta(kind: 'text' | 'refusal', delta: string, out: StepEventPayload[]) {
    let partId = kind === 'text' ? textPart : refusalPart;
    if (!partId) {
      partId = newId(kind === 'text' ? 'txt' : 'ref');
      if (kind === 'text') textPart = partId;
      else refusalPart = partId;
      out.push(
        kind === 'text'
          ? { type: 'text.start', partId }
          : { type: 'text.start', partId, kind: 'refusal' },
      );
    }
    out.push({ type: 'text.delta', partId, delta });
  }

  function findCall(delta: ChatToolCallDelta): ToolCallState | undefined | 'ambiguous' {
    const id = delta.id || undefined;
    if (typeof delta.index === 'number') {
      const call = callAtIndex.get(delta.index);
      // Some backends reuse one index for several calls; a different id means a new call.
      if (call && id && call.id && call.id !== id) return undefined;
      return call;
    }
    if (id) return calls.find((call) => call.id === id);
    // Neither index nor id: only unambiguous when exactly one call is still streaming.
    const open = calls.filter((call) => !call.done);
    return open.length === 1 ? open[0] : 'ambiguous';
  }

  function startCall(call: ToolCallState, out: StepEventPayload[]) {
    call.id ??= newId('call');
    call.started = true;
    out.push({ type: 'tool_call.start', toolCallId: call.id, name: call.name, index: call.index });
    for (const argsDelta of call.pending)
      out.push({ type: 'tool_call.delta', toolCallId: call.id, argsDelta });
    call.pending = [];
  }

  function toolCallDelta(delta: ChatToolCallDelta, out: StepEventPayload[]) {
    const found = findCall(delta);
    if (found === 'ambiguous') {
      fail(
        streamError(
          'invalid_response',
          'a tool-call chunk had neither index nor id while several calls were open',
          { provider: options.provider },
        ),
      );
      return;
    }
    let call = found;
    if (!call || call.done) {
      call = {
        index: typeof delta.index === 'number' ? delta.index : calls.length,
        id: undefined,
        name: '',
        args: '',
        pending: [],
        started: false,
        done: false,
      };
      calls.push(call);
      callAtIndex.set(call.index, call);
    }
    if (!call.started && delta.id) call.id ??= delta.id;
    if (!call.name && delta.function?.name) call.name = delta.function.name;
    const raw = delta.function?.arguments;
    // Arguments are JSON text pieces; a few servers send the whole object instead.
    const piece = typeof raw === 'string' ? raw : raw ? JSON.stringify(raw) : '';
    call.args += piece;
    if (!call.started && call.name) startCall(call, out);
    if (piece === '') return;
    if (call.started) out.push({ type: 'tool_call.delta', toolCallId: call.id!, argsDelta: piece });
    else call.pending.push(piece);
  }

  /** The provider's block end for everything: `finish_reason`. */
  function closeAll(out: StepEventPayload[]) {
    endReasoning(out);
    for (const partId of [textPart, refusalPart])
      if (partId) out.push({ type: 'text.end', partId });
    textPart = undefined;
    refusalPart = undefined;
    for (const call of calls) {
      if (call.done) continue;
      if (!call.started) startCall(call, out);
      call.done = true;
      out.push(completeToolCall(call.id!, call.name, call.args));
    }
  }

  return {
    get done() {
      return done;
    },
    push(event, data) {
      const out: StepEventPayload[] = [];
      const plain = plainTextChunk(data);
      const parsed = plain
        ? ({ success: true, data: plain } as const)
        : ChatChunkSchema.safeParse(data);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        fail(
          streamError(
            'invalid_response',
            `unexpected chunk shape at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
            { provider: options.provider },
          ),
        );
        return out;
      }
      const chunk = parsed.data;
      responseId ??= chunk.id ?? undefined;
      if (chunk.usage) usage = chatUsage(chunk.usage);

      if (chunk.error || event === 'error') {
        const raw = chunk.choices?.[0]?.finish_reason;
        if (raw) finishReason = { unified: 'error', raw };
        fail(
          errorFromBody(
            typeof chunk.error === 'string'
              ? { error: { message: chunk.error } }
              : (data as object),
            { provider: options.provider },
          ),
        );
        return out;
      }

      for (const choice of chunk.choices ?? []) {
        // Parley asks for one choice; ignore any other.
        if ((choice.index ?? 0) !== 0) continue;
        const delta = choice.delta;
        if (delta) {
          for (const piece of readReasoning(delta)) reasoningPiece(piece, out);
          const content = contentText(delta.content);
          if (content) {
            endReasoning(out);
            textDelta('text', content, out);
          }
          if (delta.refusal) {
            endReasoning(out);
            textDelta('refusal', delta.refusal, out);
          }
          for (const call of delta.tool_calls ?? []) {
            endReasoning(out);
            toolCallDelta(call, out);
            if (done) return out;
          }
        }
        const raw = choice.finish_reason;
        if (raw) {
          finishReason = mapFinish(raw, choice.native_finish_reason ?? undefined);
          closeAll(out);
          if (raw === 'error')
            fail(
              streamError('provider_error', 'the provider ended the stream with an error', {
                provider: options.provider,
              }),
            );
        }
      }
      return out;
    },
    end(): StreamOutcome {
      return {
        ...(finishReason ? { finishReason } : {}),
        ...(error ? { error } : {}),
        ...(usage ? { usage } : {}),
        ...(responseId ? { responseId } : {}),
      };
    },
  };
}
