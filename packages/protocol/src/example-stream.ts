import type { ParleyEvent, ParleyEventPayload } from './events.ts';
import { STREAM_VERSION } from './version.ts';

const runId = 'run_01JEXAMPLE';
const usageStep1 = {
  inputTokens: 412,
  cachedInputTokens: 0,
  cacheWriteTokens: 0,
  outputTokens: 31,
  costSource: 'unknown',
} as const;
const usageStep2 = {
  inputTokens: 470,
  cachedInputTokens: 384,
  cacheWriteTokens: 0,
  outputTokens: 18,
  costSource: 'unknown',
} as const;

// [t, stepId, payload]: one run in which the model calls a tool, reads its result and answers.
const script: [number, string | undefined, ParleyEventPayload][] = [
  [
    0,
    undefined,
    { type: 'run.start', agentId: 'agt_weather', startedAt: '2026-11-24T10:00:00.000Z' },
  ],
  [
    0.4,
    undefined,
    {
      type: 'memory.recall',
      hits: [{ memoryId: 'mem_7', score: 0.82 }],
      method: 'vector',
      latencyMs: 3.1,
    },
  ],
  [
    1,
    's1',
    { type: 'step.start', stepIndex: 0, provider: 'openai', model: 'gpt-4.1-mini', attempt: 1 },
  ],
  [212, 's1', { type: 'text.start', partId: 's1.t0' }],
  [212, 's1', { type: 'text.delta', partId: 's1.t0', delta: 'Let me check ' }],
  [230, 's1', { type: 'text.delta', partId: 's1.t0', delta: 'the weather.' }],
  [241, 's1', { type: 'text.end', partId: 's1.t0' }],
  [241, 's1', { type: 'tool_call.start', toolCallId: 'call_1', name: 'get_weather', index: 0 }],
  [250, 's1', { type: 'tool_call.delta', toolCallId: 'call_1', argsDelta: '{"city":' }],
  [262, 's1', { type: 'tool_call.delta', toolCallId: 'call_1', argsDelta: '"Paris"}' }],
  [
    270,
    's1',
    {
      type: 'tool_call.complete',
      toolCallId: 'call_1',
      name: 'get_weather',
      args: { city: 'Paris' },
      argsText: '{"city":"Paris"}',
    },
  ],
  [271, 's1', { type: 'usage', usage: usageStep1 }],
  [
    271,
    's1',
    {
      type: 'step.finish',
      finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
      usage: usageStep1,
      timing: {
        ttfbMs: 180,
        ttftMs: 211,
        ttftTextMs: 211,
        durationMs: 270,
        outputTokensPerSec: 524.6,
        retries: 0,
      },
    },
  ],
  [
    318,
    undefined,
    {
      type: 'tool.result',
      toolCallId: 'call_1',
      ok: true,
      output: { tempC: 14, sky: 'cloudy' },
      durationMs: 46,
    },
  ],
  [
    319,
    's2',
    { type: 'step.start', stepIndex: 1, provider: 'openai', model: 'gpt-4.1-mini', attempt: 1 },
  ],
  [498, 's2', { type: 'text.start', partId: 's2.t0' }],
  [498, 's2', { type: 'text.delta', partId: 's2.t0', delta: 'It is 14 °C and cloudy ' }],
  [520, 's2', { type: 'text.delta', partId: 's2.t0', delta: 'in Paris.' }],
  [533, 's2', { type: 'text.end', partId: 's2.t0' }],
  [
    534,
    's2',
    {
      type: 'step.finish',
      finishReason: { unified: 'stop', raw: 'stop' },
      usage: usageStep2,
      timing: {
        ttfbMs: 160,
        ttftMs: 179,
        ttftTextMs: 179,
        durationMs: 215,
        outputTokensPerSec: 500,
        retries: 0,
      },
    },
  ],
  [
    540,
    undefined,
    {
      type: 'memory.write',
      memoryId: 'mem_8',
      op: 'create',
      scope: { workspaceId: 'ws_1', agentId: 'agt_weather', userId: 'usr_1' },
      kind: 'fact',
      summary: 'User asked about the weather in Paris',
      bytes: 37,
    },
  ],
  [
    541,
    undefined,
    {
      type: 'run.finish',
      finishReason: { unified: 'stop', raw: 'stop' },
      usage: {
        inputTokens: 882,
        cachedInputTokens: 384,
        cacheWriteTokens: 0,
        outputTokens: 49,
        costSource: 'unknown',
      },
      timing: { durationMs: 541, ttftMs: 212, steps: 2 },
    },
  ],
];

/**
 * A complete, conforming example stream: text, a tool call with argument deltas, its result,
 * a second step, recalled and written memory, and the terminal. The docs show exactly these
 * events (a test keeps them equal) and `npm run demo` plays them.
 */
export const EXAMPLE_STREAM: readonly ParleyEvent[] = script.map(
  ([t, step, payload], i) =>
    ({
      v: STREAM_VERSION,
      seq: i + 1,
      runId,
      ...(step ? { stepId: `${runId}.${step}` } : {}),
      t,
      ...payload,
    }) as ParleyEvent,
);
