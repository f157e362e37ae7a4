import {
  type FinishReason,
  type ParleyError,
  type StepEventPayload,
  streamError,
  type Usage,
} from '@parley/protocol';
import type { z } from 'zod';
import { classifyProviderError } from '../shared/classify-error.ts';
import { isRecord, stringOf } from '../shared/json.ts';
import { parseWire } from '../shared/parse-wire.ts';
import { createPartIds } from '../shared/part-ids.ts';
import type { StreamMapper, StreamOutcome } from '../shared/stream-mapper.ts';
import { completeToolCall } from '../shared/tool-call-args.ts';
import { mapResponsesFinish } from './map-finish-reason.ts';
import {
  ArgumentsDeltaEventSchema,
  ArgumentsDoneEventSchema,
  ErrorEventSchema,
  type OutputItem,
  OutputItemEventSchema,
  RESPONSES_REPLAY_PROVIDER,
  ReasoningDeltaEventSchema,
  ResponseEventSchema,
  TextDeltaEventSchema,
  TextDoneEventSchema,
} from './responses-api.ts';
import { responsesUsage } from './responses-usage.ts';

interface CallState {
  callId: string;
  name: string;
  index: number;
  args: string;
  done: boolean;
}

/**
 * Maps Responses API events onto step payloads.
 * - Text and refusal parts are keyed by `item_id` + `content_index`.
 * - Reasoning (summary or full text) is one part per reasoning item; at `output_item.done` the
 *   whole item (with `encrypted_content`) becomes `reasoning.end.replay`.
 * - Function calls are keyed by `item_id` (`fc_…`) but reported under their `call_id`
 *   (`call_…`), the id `function_call_output` must echo; they complete at
 *   `function_call_arguments.done` (or the item's done).
 * - `error` is remembered and the stream read on to `response.failed`; EOF before a final
 *   status is a truncated stream.
 */
export function createResponsesStreamMapper(provider = 'openai-responses'): StreamMapper {
  const newId = createPartIds();
  const textParts = new Map<string, string>();
  const reasoningParts = new Map<string, string>();
  const calls = new Map<string, CallState>();
  let calledTools = false;
  let status: string | undefined;
  let incompleteReason: string | undefined;
  let usage: Usage | undefined;
  let error: ParleyError | undefined;
  let responseId: string | undefined;
  let done = false;

  const invalid = (message: string) => {
    error ??= streamError('invalid_response', message, { provider });
    done = true;
  };

  const parse = <S extends z.ZodType>(schema: S, data: unknown, event: string) =>
    parseWire(schema, data, event, invalid);

  function textDelta(
    key: string,
    kind: 'text' | 'refusal',
    delta: string,
    out: StepEventPayload[],
  ) {
    let partId = textParts.get(key);
    if (!partId) {
      partId = newId(kind === 'text' ? 'txt' : 'ref');
      textParts.set(key, partId);
      out.push(
        kind === 'text'
          ? { type: 'text.start', partId }
          : { type: 'text.start', partId, kind: 'refusal' },
      );
    }
    if (delta) out.push({ type: 'text.delta', partId, delta });
  }

  function endText(key: string, out: StepEventPayload[]) {
    const partId = textParts.get(key);
    if (!partId) return;
    textParts.delete(key);
    out.push({ type: 'text.end', partId });
  }

  function reasoningDelta(
    itemId: string,
    visibility: 'full' | 'summary',
    delta: string,
    out: StepEventPayload[],
  ) {
    let partId = reasoningParts.get(itemId);
    if (!partId) {
      partId = newId('rsn');
      reasoningParts.set(itemId, partId);
      out.push({ type: 'reasoning.start', partId, visibility });
    }
    if (delta) out.push({ type: 'reasoning.delta', partId, delta });
  }

  function endReasoning(item: OutputItem, out: StepEventPayload[]) {
    const itemId = item.id ?? '';
    let partId = reasoningParts.get(itemId);
    // Encrypted reasoning without a summary still has to go back on the next turn.
    if (!partId && item.encrypted_content) {
      partId = newId('rsn');
      out.push({ type: 'reasoning.start', partId, visibility: 'encrypted' });
    }
    if (!partId) return;
    reasoningParts.delete(itemId);
    out.push({
      type: 'reasoning.end',
      partId,
      replay: { provider: RESPONSES_REPLAY_PROVIDER, data: item },
    });
  }

  function addCall(
    itemId: string,
    item: OutputItem | undefined,
    index: number,
    out: StepEventPayload[],
  ) {
    const call: CallState = {
      callId: item?.call_id || itemId,
      name: item?.name ?? '',
      index,
      args: '',
      done: false,
    };
    calls.set(itemId, call);
    out.push({ type: 'tool_call.start', toolCallId: call.callId, name: call.name, index });
    return call;
  }

  /** The block end of a call: fills in argument text the deltas did not carry, then completes. */
  function completeCall(
    call: CallState,
    finalArgs: string | null | undefined,
    out: StepEventPayload[],
  ) {
    if (call.done) return;
    if (finalArgs && finalArgs !== call.args && finalArgs.startsWith(call.args)) {
      const rest = finalArgs.slice(call.args.length);
      call.args = finalArgs;
      out.push({ type: 'tool_call.delta', toolCallId: call.callId, argsDelta: rest });
    }
    call.done = true;
    calledTools = true;
    out.push(completeToolCall(call.callId, call.name, call.args));
  }

  function finalStatus(data: unknown, out: StepEventPayload[]) {
    const event = parse(ResponseEventSchema, data, 'response');
    if (!event) return;
    const response = event.response;
    status = response.status ?? undefined;
    incompleteReason = response.incomplete_details?.reason ?? undefined;
    if (response.usage) usage = responsesUsage(response.usage);
    if (status === 'failed')
      error ??= classifyProviderError({
        provider,
        ...(response.error?.code ? { code: response.error.code } : {}),
        message: response.error?.message ?? 'the response failed',
      });
    // Anything the provider left open ends with the response.
    for (const key of [...textParts.keys()]) endText(key, out);
    for (const [itemId, partId] of reasoningParts) {
      reasoningParts.delete(itemId);
      out.push({ type: 'reasoning.end', partId });
    }
    for (const call of calls.values()) completeCall(call, undefined, out);
    done = true;
  }

  return {
    get done() {
      return done;
    },
    push(event, data) {
      const out: StepEventPayload[] = [];
      const type = (isRecord(data) ? stringOf(data.type) : undefined) ?? event;
      switch (type) {
        case 'response.created':
        case 'response.in_progress':
        case 'response.queued': {
          const created = parse(ResponseEventSchema, data, type);
          responseId ??= created?.response.id ?? undefined;
          break;
        }
        case 'response.output_item.added': {
          const added = parse(OutputItemEventSchema, data, type);
          if (added?.item.type === 'function_call' && added.item.id)
            addCall(added.item.id, added.item, added.output_index ?? calls.size, out);
          break;
        }
        case 'response.output_item.done': {
          const finished = parse(OutputItemEventSchema, data, type);
          if (!finished) break;
          const { item } = finished;
          if (item.type === 'reasoning') endReasoning(item, out);
          else if (item.type === 'function_call' && item.id) {
            const call =
              calls.get(item.id) ??
              addCall(item.id, item, finished.output_index ?? calls.size, out);
            completeCall(call, item.arguments, out);
          } else if (item.type === 'message')
            for (const key of [...textParts.keys()])
              if (key.startsWith(`${item.id}:`)) endText(key, out);
          break;
        }
        case 'response.output_text.delta':
        case 'response.refusal.delta': {
          const delta = parse(TextDeltaEventSchema, data, type);
          if (!delta) break;
          const kind = type === 'response.refusal.delta' ? 'refusal' : 'text';
          textDelta(`${delta.item_id}:${delta.content_index ?? 0}:${kind}`, kind, delta.delta, out);
          break;
        }
        case 'response.output_text.done':
        case 'response.refusal.done': {
          const ended = parse(TextDoneEventSchema, data, type);
          const kind = type === 'response.refusal.done' ? 'refusal' : 'text';
          if (ended) endText(`${ended.item_id}:${ended.content_index ?? 0}:${kind}`, out);
          break;
        }
        case 'response.reasoning_summary_text.delta':
        case 'response.reasoning_text.delta': {
          const delta = parse(ReasoningDeltaEventSchema, data, type);
          if (delta)
            reasoningDelta(
              delta.item_id,
              type === 'response.reasoning_text.delta' ? 'full' : 'summary',
              delta.delta,
              out,
            );
          break;
        }
        case 'response.function_call_arguments.delta': {
          const delta = parse(ArgumentsDeltaEventSchema, data, type);
          if (!delta) break;
          const call =
            calls.get(delta.item_id) ??
            addCall(delta.item_id, undefined, delta.output_index ?? calls.size, out);
          if (delta.delta && !call.done) {
            call.args += delta.delta;
            out.push({ type: 'tool_call.delta', toolCallId: call.callId, argsDelta: delta.delta });
          }
          break;
        }
        case 'response.function_call_arguments.done': {
          const ended = parse(ArgumentsDoneEventSchema, data, type);
          const call = ended && calls.get(ended.item_id);
          if (call) completeCall(call, ended.arguments, out);
          break;
        }
        case 'response.completed':
        case 'response.incomplete':
        case 'response.failed':
          finalStatus(data, out);
          break;
        case 'error': {
          const failure = parse(ErrorEventSchema, data, type);
          if (!failure) break;
          const type_ = failure.error?.type ?? undefined;
          const code = failure.error?.code ?? failure.code ?? undefined;
          error ??= classifyProviderError({
            provider,
            ...(type_ ? { type: type_ } : {}),
            ...(code ? { code } : {}),
            message: failure.error?.message ?? failure.message ?? 'the provider reported an error',
          });
          break;
        }
      }
      return out;
    },
    end(): StreamOutcome {
      const finishReason: FinishReason | undefined = status
        ? mapResponsesFinish(status, incompleteReason, calledTools)
        : undefined;
      return {
        ...(finishReason ? { finishReason } : {}),
        ...(error ? { error } : {}),
        ...(usage ? { usage } : {}),
        ...(responseId ? { responseId } : {}),
      };
    },
  };
}
