import {
  type FinishReason,
  type ParleyError,
  type StepEventPayload,
  streamError,
} from '@parley/protocol';
import type { z } from 'zod';
import { errorFromBody } from '../shared/error-body.ts';
import { isRecord, stringOf } from '../shared/json.ts';
import { parseWire } from '../shared/parse-wire.ts';
import { createPartIds } from '../shared/part-ids.ts';
import type { StreamMapper, StreamOutcome } from '../shared/stream-mapper.ts';
import { completeToolCall } from '../shared/tool-call-args.ts';
import {
  type AnthropicUsage,
  ContentBlockDeltaSchema,
  ContentBlockStartSchema,
  ContentBlockStopSchema,
  MessageDeltaSchema,
  MessageStartSchema,
} from './anthropic-api.ts';
import { anthropicUsage, mergeAnthropicUsage } from './anthropic-usage.ts';
import { mapAnthropicStopReason } from './map-stop-reason.ts';

type Block =
  | { kind: 'text'; partId: string }
  | { kind: 'reasoning'; partId: string; signature: string; redactedData?: string }
  | { kind: 'tool'; id: string; name: string; args: string; initialInput: unknown }
  /** Server tools and blocks Parley does not map (web search results, citations …). */
  | { kind: 'ignored' };

/**
 * Maps Anthropic Messages events onto step payloads. Blocks are keyed by the SSE `index`:
 * text → text part; `thinking` → reasoning with its `signature_delta` kept for replay;
 * `redacted_thinking` → redacted reasoning with its data kept for replay; `tool_use` → a tool
 * call whose `input_json_delta` pieces are parsed only at `content_block_stop` (empty → `{}`).
 * `ping` is a keep-alive. The step is complete only at `message_stop` after a `stop_reason`;
 * `event: error` (e.g. `overloaded_error`, "would normally correspond to an HTTP 529") ends it
 * with a typed error. A second `message_start` inside an open message (a proxy splicing two
 * streams) is an invalid response.
 */
export function createAnthropicStreamMapper(provider = 'anthropic'): StreamMapper {
  const newId = createPartIds();
  const blocks = new Map<number, Block>();
  let started = false;
  let stopped = false;
  let stopReason: string | undefined;
  let usage: AnthropicUsage | undefined;
  let error: ParleyError | undefined;
  let responseId: string | undefined;
  let done = false;

  const invalid = (message: string) => {
    error ??= streamError('invalid_response', message, { provider });
    done = true;
  };

  const parse = <S extends z.ZodType>(schema: S, data: unknown, event: string) =>
    parseWire(schema, data, event, invalid);

  function startBlock(data: unknown, out: StepEventPayload[]) {
    const event = parse(ContentBlockStartSchema, data, 'content_block_start');
    if (!event) return;
    const block = event.content_block;
    switch (block.type) {
      case 'text': {
        const partId = newId('txt');
        blocks.set(event.index, { kind: 'text', partId });
        out.push({ type: 'text.start', partId });
        if (block.text) out.push({ type: 'text.delta', partId, delta: block.text });
        return;
      }
      case 'thinking':
      case 'redacted_thinking': {
        const partId = newId('rsn');
        const redacted = block.type === 'redacted_thinking';
        blocks.set(event.index, {
          kind: 'reasoning',
          partId,
          signature: block.signature ?? '',
          ...(redacted ? { redactedData: block.data ?? '' } : {}),
        });
        out.push({ type: 'reasoning.start', partId, visibility: redacted ? 'redacted' : 'full' });
        if (block.thinking) out.push({ type: 'reasoning.delta', partId, delta: block.thinking });
        return;
      }
      case 'tool_use': {
        const id = block.id || newId('call');
        const name = block.name ?? '';
        blocks.set(event.index, { kind: 'tool', id, name, args: '', initialInput: block.input });
        out.push({ type: 'tool_call.start', toolCallId: id, name, index: event.index });
        return;
      }
      default:
        blocks.set(event.index, { kind: 'ignored' });
    }
  }

  function blockDelta(data: unknown, out: StepEventPayload[]) {
    const event = parse(ContentBlockDeltaSchema, data, 'content_block_delta');
    if (!event) return;
    const block = blocks.get(event.index);
    const { delta } = event;
    if (!block) return invalid(`content_block_delta for block ${event.index}, which never started`);
    if (block.kind === 'text' && delta.type === 'text_delta' && delta.text)
      out.push({ type: 'text.delta', partId: block.partId, delta: delta.text });
    else if (block.kind === 'reasoning' && delta.type === 'thinking_delta' && delta.thinking)
      out.push({ type: 'reasoning.delta', partId: block.partId, delta: delta.thinking });
    else if (block.kind === 'reasoning' && delta.type === 'signature_delta')
      block.signature += delta.signature ?? '';
    else if (block.kind === 'tool' && delta.type === 'input_json_delta' && delta.partial_json) {
      block.args += delta.partial_json;
      out.push({ type: 'tool_call.delta', toolCallId: block.id, argsDelta: delta.partial_json });
    }
    // citations_delta and future delta types carry nothing Parley streams.
  }

  function stopBlock(data: unknown, out: StepEventPayload[]) {
    const event = parse(ContentBlockStopSchema, data, 'content_block_stop');
    if (!event) return;
    const block = blocks.get(event.index);
    blocks.delete(event.index);
    if (!block || block.kind === 'ignored') return;
    if (block.kind === 'text') out.push({ type: 'text.end', partId: block.partId });
    else if (block.kind === 'reasoning') {
      const replay =
        block.redactedData !== undefined
          ? { provider, data: { type: 'redacted_thinking', data: block.redactedData } }
          : block.signature
            ? { provider, signature: block.signature }
            : undefined;
      out.push({ type: 'reasoning.end', partId: block.partId, ...(replay ? { replay } : {}) });
    } else {
      // A block that streamed no JSON but started with a non-empty `input` object carries
      // its arguments there.
      if (
        block.args === '' &&
        isRecord(block.initialInput) &&
        Object.keys(block.initialInput).length > 0
      ) {
        block.args = JSON.stringify(block.initialInput);
        out.push({ type: 'tool_call.delta', toolCallId: block.id, argsDelta: block.args });
      }
      out.push(completeToolCall(block.id, block.name, block.args));
    }
  }

  return {
    get done() {
      return done;
    },
    push(event, data) {
      const out: StepEventPayload[] = [];
      const type = (isRecord(data) ? stringOf(data.type) : undefined) ?? event;
      switch (type) {
        case 'message_start': {
          if (started && !stopped) {
            invalid('a second message_start arrived while the first message was still open');
            break;
          }
          const start = parse(MessageStartSchema, data, 'message_start');
          if (!start) break;
          started = true;
          responseId ??= start.message?.id ?? undefined;
          if (start.message?.usage) usage = mergeAnthropicUsage(usage, start.message.usage);
          break;
        }
        case 'content_block_start':
          startBlock(data, out);
          break;
        case 'content_block_delta':
          blockDelta(data, out);
          break;
        case 'content_block_stop':
          stopBlock(data, out);
          break;
        case 'message_delta': {
          const delta = parse(MessageDeltaSchema, data, 'message_delta');
          if (!delta) break;
          if (delta.delta?.stop_reason) stopReason = delta.delta.stop_reason;
          if (delta.usage) usage = mergeAnthropicUsage(usage, delta.usage);
          break;
        }
        case 'message_stop':
          stopped = true;
          done = true;
          break;
        case 'error':
          error ??= errorFromBody(data, { provider });
          done = true;
          break;
        // `ping` is a keep-alive; unknown events are ignored as the docs ask.
      }
      return out;
    },
    end(): StreamOutcome {
      const finishReason: FinishReason | undefined =
        stopped && stopReason
          ? { unified: mapAnthropicStopReason(stopReason), raw: stopReason }
          : undefined;
      return {
        ...(finishReason ? { finishReason } : {}),
        ...(error ? { error } : {}),
        ...(usage ? { usage: anthropicUsage(usage) } : {}),
        ...(responseId ? { responseId } : {}),
      };
    },
  };
}
