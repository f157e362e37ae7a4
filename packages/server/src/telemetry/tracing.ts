import type { Tracer } from '@opentelemetry/api';
import { newSpanId, newTraceId } from './trace-context.ts';

/** Tracing as the server runs it: a tracer, and how to send what it holds before exiting. */
export interface Tracing {
  tracer: Tracer;
  /**
   * Calls `fn` (which starts a root span) so that the new trace gets `traceId`: a request's
   * trace id is chosen before its span starts (its first log line carries it).
   */
  withTraceId<T>(traceId: string, fn: () => T): T;
  /**
   * PARLEY_OTEL_CAPTURE_CONTENT=1: spans carry prompts, answers, tool arguments and results
   * (secret values and credential-shaped text scrubbed all the same). Off by default.
   */
  captureContent: boolean;
  /** Where spans go and how (for the start-up log line). */
  target: string;
  shutdown(): Promise<void>;
}

type Env = Record<string, string | undefined>;

/**
 * OpenTelemetry tracing, only when asked: the standard exporter variables
 * (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, with their headers and
 * `…_PROTOCOL`: `http/protobuf`, the specification's default, or `http/json`) turn it on;
 * `OTEL_TRACES_EXPORTER=none` or `OTEL_SDK_DISABLED=true` keep it off. Without them nothing of
 * the SDK is loaded: the run path only checks that there is no tracer. The exporters read the
 * same variables themselves (endpoint, headers, timeout).
 */
export async function createTracing(
  env: Env = process.env,
  options: { captureContent?: boolean } = {},
): Promise<Tracing | undefined> {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint || env.OTEL_SDK_DISABLED === 'true') return undefined;
  if ((env.OTEL_TRACES_EXPORTER ?? 'otlp').split(',').every((e) => e.trim() !== 'otlp'))
    return undefined;
  const protocol =
    env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL || 'http/protobuf';
  if (protocol !== 'http/protobuf' && protocol !== 'http/json')
    throw new Error(
      `OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not supported: use http/protobuf or http/json`,
    );
  const [
    { TracerProvider, BatchSpanProcessor },
    { resourceFromAttributes },
    { redactingProcessor },
    exporterModule,
  ] = await Promise.all([
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/resources'),
    import('./redaction.ts'),
    protocol === 'http/json'
      ? import('@opentelemetry/exporter-trace-otlp-http')
      : import('@opentelemetry/exporter-trace-otlp-proto'),
  ]);
  const exporter = new exporterModule.OTLPTraceExporter();
  // Random ids as the SDK's own, except a trace id chosen beforehand (withTraceId).
  let nextTraceId: string | undefined;
  const idGenerator = {
    generateTraceId() {
      const id = nextTraceId ?? newTraceId();
      nextTraceId = undefined;
      return id;
    },
    generateSpanId: newSpanId,
  };
  const delay = Number(env.OTEL_BSP_SCHEDULE_DELAY);
  const provider = new TracerProvider({
    idGenerator,
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || 'parley' }),
    // Every span is scrubbed of secrets on its way to the exporter (redaction.ts).
    spanProcessors: [
      redactingProcessor(
        new BatchSpanProcessor({
          exporter,
          ...(delay > 0 ? { scheduledDelayMillis: delay } : {}),
        }),
      ),
    ],
  });
  return {
    tracer: provider.getTracer('parley'),
    captureContent: options.captureContent === true,
    withTraceId(traceId, fn) {
      nextTraceId = traceId;
      try {
        return fn();
      } finally {
        nextTraceId = undefined;
      }
    },
    target: `${endpoint} (${protocol})`,
    shutdown: () => provider.shutdown(),
  };
}
