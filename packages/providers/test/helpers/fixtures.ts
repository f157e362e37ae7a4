import { readdirSync, readFileSync } from 'node:fs';
import {
  type ParleyEvent,
  reasoningOf,
  reduceEvents,
  refusalOf,
  textOf,
  toolCallsOf,
} from '@parley/protocol';
import { expect } from 'vitest';
import type { ProviderName } from '../../src/model.ts';
import { lastFinish } from './collect.ts';

/** The shared golden transcripts (CI has `shared/` beside the clone at the same place). */
export const SHARED_FIXTURES = new URL(
  '../../../../../shared/fixtures/providers/',
  import.meta.url,
);
/** Transcripts reconstructed here for rules the shared set does not cover. */
export const LOCAL_FIXTURES = new URL('../fixtures/', import.meta.url);

export interface Fixture {
  name: string;
  kind: 'sse' | 'http';
  bytes: Uint8Array;
  expected: ExpectedStream | ExpectedHttpError;
  source: 'shared' | 'local';
}

export interface ExpectedToolCall {
  index?: number;
  id: string | null;
  name: string;
  arguments: string;
  argumentDeltas: string[];
  parsedArguments: unknown;
}

export interface ExpectedUsage {
  inputTokens: number;
  outputTokens: number;
  totalTokens?: number;
  cachedInputTokens?: number | null;
  cacheWriteInputTokens?: number | null;
  reasoningTokens?: number | null;
  costCredits?: number | null;
}

export interface ExpectedStream {
  wireFamily: string;
  text: string;
  reasoning?: string;
  refusal?: string;
  reasoningSignature?: string | null;
  toolCalls: ExpectedToolCall[];
  finishReason: { raw: string | null; unified: string; native?: string | null } | null;
  usage: ExpectedUsage | null;
  error: { code?: string | number | null; type?: string | null; message: string } | null;
  terminal: 'complete' | 'error' | 'truncated';
  responseId?: string | null;
}

export interface ExpectedHttpError {
  provider: string;
  status: number;
  errorType: string | null;
  errorCode: string | number | null;
  unified: string;
  retryable: boolean;
  retryAfterMs: number | null;
  requestId: string | null;
  message: string;
  upstreamProvider?: string;
}

function readDirFixtures(dir: URL, source: Fixture['source']): Fixture[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.sse') || file.endsWith('.http'))
    .sort()
    .map((file) => {
      const kind = file.endsWith('.sse') ? 'sse' : 'http';
      const name = file.slice(0, -(kind.length + 1));
      return {
        name,
        kind,
        bytes: readFileSync(new URL(file, dir)),
        expected: JSON.parse(readFileSync(new URL(`${name}.expected.json`, dir), 'utf8')),
        source,
      };
    });
}

export function loadFixtures(): Fixture[] {
  return [
    ...readDirFixtures(SHARED_FIXTURES, 'shared'),
    ...readDirFixtures(LOCAL_FIXTURES, 'local'),
  ];
}

/** Which adapter reads a transcript: by its file name, else by its wire family. */
export function providerForFixture(fixture: Fixture): ProviderName {
  const { name } = fixture;
  if (name.startsWith('openai-responses')) return 'openai-responses';
  if (name.startsWith('openai-compatible') || name.startsWith('ollama')) return 'openai-compatible';
  if (name.startsWith('openai')) return 'openai';
  if (name.startsWith('anthropic')) return 'anthropic';
  if (name.startsWith('openrouter')) return 'openrouter';
  const family = 'wireFamily' in fixture.expected ? fixture.expected.wireFamily : undefined;
  if (family === 'openai-responses') return 'openai-responses';
  if (family === 'anthropic') return 'anthropic';
  if (family === 'openai-chat') return 'openai-compatible';
  // `*.http` expectations name the provider instead (`"ollama (OpenAI-compatible)"`).
  const provider = 'provider' in fixture.expected ? String(fixture.expected.provider ?? '') : '';
  if (/anthropic/i.test(provider)) return 'anthropic';
  if (/openrouter/i.test(provider)) return 'openrouter';
  if (provider === 'openai') return 'openai';
  if (provider) return 'openai-compatible';
  throw new Error(`no adapter is known for fixture ${name}`);
}

/** The fixtures' names for Parley codes where they differ from the code itself. */
const CODE_ALIASES: Record<string, string> = {
  provider_overloaded: 'overloaded',
  provider_unavailable: 'overloaded',
  authentication: 'auth',
  authentication_failed: 'auth',
  permission_denied: 'permission',
  context_length_exceeded: 'context_length',
  content_filtered: 'content_filter',
  server_error: 'provider_error',
  provider_server_error: 'provider_error',
};

/** Checks an adapter's stamped events against a transcript's `*.expected.json` outcome. */
export function expectStreamOutcome(events: ParleyEvent[], expected: ExpectedStream, why: string) {
  const state = reduceEvents(events);
  const finish = lastFinish(events);
  expect(textOf(state), `${why}: text`).toBe(expected.text);
  expect(reasoningOf(state), `${why}: reasoning`).toBe(expected.reasoning ?? '');
  expect(refusalOf(state), `${why}: refusal`).toBe(expected.refusal ?? '');
  if (expected.reasoningSignature) {
    const signatures = state.parts.flatMap((part) =>
      part.kind === 'reasoning' && part.replay?.signature ? [part.replay.signature] : [],
    );
    expect(signatures, `${why}: reasoning signature kept for replay`).toContain(
      expected.reasoningSignature,
    );
  }

  const calls = toolCallsOf(state);
  expect(calls.length, `${why}: number of tool calls`).toBe(expected.toolCalls.length);
  expected.toolCalls.forEach((want, position) => {
    const call =
      (want.id ? calls.find((c) => c.toolCallId === want.id) : undefined) ??
      (want.index !== undefined ? calls.find((c) => c.index === want.index) : calls[position]);
    expect(call, `${why}: tool call ${want.id ?? position}`).toBeDefined();
    if (!call) return;
    if (want.id) expect(call.toolCallId, `${why}: tool call id`).toBe(want.id);
    if (want.index !== undefined) expect(call.index, `${why}: tool call index`).toBe(want.index);
    expect(call.name, `${why}: tool name`).toBe(want.name);
    expect(call.status, `${why}: tool call status`).toBe('ready');
    // The fixtures write an empty argument text as "{}" (its parsed value); Parley keeps the
    // raw text, which must equal the joined deltas, and parses "" to {}.
    const noText = want.argumentDeltas.join('') === '' && want.arguments === '{}';
    expect(call.argsText, `${why}: raw arguments`).toBe(noText ? '' : want.arguments);
    expect(call.args, `${why}: parsed arguments`).toEqual(want.parsedArguments);
    const deltas = events.flatMap((event) =>
      event.type === 'tool_call.delta' && event.toolCallId === call.toolCallId
        ? [event.argsDelta]
        : [],
    );
    // The fixtures keep empty pieces; an adapter may drop them but must keep the order.
    expect(deltas, `${why}: argument deltas in order`).toEqual(
      want.argumentDeltas.filter((delta) => delta !== ''),
    );
  });

  if (expected.terminal === 'complete') {
    expect(finish.error, `${why}: no error`).toBeUndefined();
    expect(finish.finishReason.unified, `${why}: unified finish`).toBe(
      expected.finishReason?.unified,
    );
  } else {
    expect(finish.finishReason.unified, `${why}: unified finish`).toBe('error');
    expect(finish.error, `${why}: a typed error`).toBeDefined();
    if (expected.terminal === 'truncated')
      expect(finish.error?.code, `${why}: truncated`).toBe('truncated_stream');
    else expect(finish.error?.code, `${why}: in-band error`).not.toBe('truncated_stream');
  }
  if (expected.finishReason) {
    expect(finish.finishReason.raw, `${why}: raw finish`).toBe(
      expected.finishReason.raw ?? undefined,
    );
    if (expected.finishReason.native !== undefined)
      expect(finish.finishReason.native, `${why}: native finish`).toBe(
        expected.finishReason.native ?? undefined,
      );
  }

  if (expected.error) {
    const providerCode = expected.error.code ?? expected.error.type;
    if (providerCode !== null && providerCode !== undefined)
      expect(finish.error?.providerCode, `${why}: provider error code`).toBe(String(providerCode));
    expect(finish.error?.message, `${why}: error message`).toContain(expected.error.message);
  }

  const usage = state.steps.at(-1)?.usage;
  if (expected.usage === null) expect(usage, `${why}: no usage reported`).toBeUndefined();
  else {
    const want = expected.usage;
    expect(usage, `${why}: usage`).toBeDefined();
    expect(usage?.inputTokens, `${why}: input tokens`).toBe(want.inputTokens);
    expect(usage?.outputTokens, `${why}: output tokens`).toBe(want.outputTokens);
    expect(usage?.cachedInputTokens, `${why}: cached input`).toBe(want.cachedInputTokens ?? 0);
    if (want.cacheWriteInputTokens !== undefined)
      expect(usage?.cacheWriteTokens, `${why}: cache writes`).toBe(want.cacheWriteInputTokens ?? 0);
    expect(usage?.reasoningTokens, `${why}: reasoning tokens`).toBe(
      want.reasoningTokens ?? undefined,
    );
    if (want.costCredits !== undefined && want.costCredits !== null) {
      expect(usage?.costUsd, `${why}: cost`).toBe(want.costCredits);
      expect(usage?.costSource, `${why}: cost source`).toBe('provider');
    } else expect(usage?.costUsd, `${why}: no cost`).toBeUndefined();
  }
  if (expected.responseId && finish.providerRequestId !== undefined)
    expect(finish.providerRequestId, `${why}: response id`).toBe(expected.responseId);
}

/** Checks the typed error of an HTTP error response against its `*.expected.json`. */
export function expectHttpErrorOutcome(
  events: ParleyEvent[],
  expected: ExpectedHttpError,
  why: string,
) {
  const finish = lastFinish(events);
  expect(
    events.filter((event) => event.type === 'step.start'),
    `${why}: no retry`,
  ).toHaveLength(1);
  expect(finish.finishReason.unified, `${why}: unified finish`).toBe('error');
  const error = finish.error;
  expect(error?.code, `${why}: code`).toBe(CODE_ALIASES[expected.unified] ?? expected.unified);
  expect(error?.retryable, `${why}: retryable`).toBe(expected.retryable);
  expect(error?.retryAfterMs, `${why}: retryAfterMs`).toBe(expected.retryAfterMs ?? undefined);
  expect(error?.httpStatus, `${why}: status`).toBe(expected.status);
  expect(error?.providerRequestId, `${why}: request id`).toBe(expected.requestId ?? undefined);
  expect(error?.message, `${why}: message`).toContain(expected.message);
  const providerCode = expected.errorCode ?? expected.errorType;
  if (providerCode !== null)
    expect(error?.providerCode, `${why}: provider code`).toBe(String(providerCode));
  if (expected.upstreamProvider)
    expect(error?.message, `${why}: upstream provider`).toContain(expected.upstreamProvider);
}
