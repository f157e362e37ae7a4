import type { ParleyEvent } from '@parley/protocol';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { createLabelBounds } from './labels.ts';

/**
 * Prometheus metrics for one server (its own registry, so tests can run several): time to
 * first token and inter-chunk latency by provider and model, runs by outcome, tokens, cost,
 * HTTP latency, live runs and SSE clients, security signals, scam-guard verdicts. Label
 * values that callers choose (model names) are bounded in length and number (labels.ts).
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'parley_process_' });
  const model = ['provider', 'model'] as const;
  const bound = createLabelBounds();

  const ttft = new Histogram({
    name: 'parley_ttft_seconds',
    help: 'Run start to first content-bearing delta, by provider and model.',
    labelNames: model,
    buckets: [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 8, 13, 20],
    registers: [registry],
  });
  const interChunk = new Histogram({
    name: 'parley_inter_chunk_seconds',
    help: 'Gap between consecutive text or argument deltas of one step.',
    labelNames: model,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const runDuration = new Histogram({
    name: 'parley_run_duration_seconds',
    help: 'Run start to terminal event.',
    labelNames: ['outcome'],
    buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers: [registry],
  });
  const runs = new Counter({
    name: 'parley_runs_total',
    help: 'Finished runs by outcome (finish, error, abort) and error code.',
    labelNames: ['outcome', 'code', 'provider', 'model'],
    registers: [registry],
  });
  const tokens = new Counter({
    name: 'parley_tokens_total',
    help: 'Tokens by kind (input, output, cached_input, reasoning).',
    labelNames: ['kind', 'provider', 'model'],
    registers: [registry],
  });
  const cost = new Counter({
    name: 'parley_cost_usd_total',
    help: 'Provider cost in US dollars, where known.',
    labelNames: model,
    registers: [registry],
  });
  const liveRuns = new Gauge({
    name: 'parley_live_runs',
    help: 'Runs executing in this process.',
    registers: [registry],
  });
  const sseClients = new Gauge({
    name: 'parley_sse_clients',
    help: 'Open run event streams.',
    registers: [registry],
  });
  const http = new Histogram({
    name: 'parley_http_request_duration_seconds',
    help: 'HTTP request latency by route and status (streams: time to headers).',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const signals = new Counter({
    name: 'parley_security_signals_total',
    help: 'Security signals written, by kind and severity.',
    labelNames: ['kind', 'severity'],
    registers: [registry],
  });

  const scamVerdicts = new Counter({
    name: 'parley_scam_guard_verdicts_total',
    help: 'Inbound messages the scam-link guard assessed, by verdict (allow, warn, block).',
    labelNames: ['verdict'],
    registers: [registry],
  });

  return {
    registry,
    liveRuns,
    sseClients,
    http,
    signals,
    scamVerdicts,
    /** Follows one run's events: per-step delta gaps, TTFT, usage and the outcome. */
    runObserver() {
      let labels = { provider: 'unknown', model: 'unknown' };
      // The step's series, looked up once: observing by labels hashes them on every chunk.
      let chunkGaps: ReturnType<typeof interChunk.labels> | undefined;
      let lastDeltaT: number | undefined;
      return (event: ParleyEvent) => {
        switch (event.type) {
          case 'step.start':
            labels = {
              provider: bound('provider', event.provider),
              model: bound('model', event.model),
            };
            chunkGaps = undefined;
            lastDeltaT = undefined;
            break;
          case 'text.delta':
          case 'reasoning.delta':
          case 'tool_call.delta':
            if (lastDeltaT !== undefined) {
              chunkGaps ??= interChunk.labels(labels);
              chunkGaps.observe((event.t - lastDeltaT) / 1000);
            }
            lastDeltaT = event.t;
            break;
          case 'run.finish': {
            if (event.timing.ttftMs !== undefined) ttft.observe(labels, event.timing.ttftMs / 1000);
            runDuration.observe({ outcome: 'finish' }, event.timing.durationMs / 1000);
            runs.inc({ outcome: 'finish', code: '', ...labels });
            const u = event.usage;
            tokens.inc({ kind: 'input', ...labels }, u.inputTokens);
            tokens.inc({ kind: 'output', ...labels }, u.outputTokens);
            tokens.inc({ kind: 'cached_input', ...labels }, u.cachedInputTokens);
            if (u.reasoningTokens) tokens.inc({ kind: 'reasoning', ...labels }, u.reasoningTokens);
            if (u.costUsd) cost.inc(labels, u.costUsd);
            break;
          }
          case 'run.error':
            runDuration.observe({ outcome: 'error' }, event.t / 1000);
            runs.inc({ outcome: 'error', code: event.error.code, ...labels });
            break;
          case 'run.abort':
            runDuration.observe({ outcome: 'abort' }, event.t / 1000);
            runs.inc({ outcome: 'abort', code: event.reason, ...labels });
            break;
          default:
            break;
        }
      };
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
