import type { Tracer } from '@opentelemetry/api';

/** Tracing as the server runs it: a tracer, and how to send what it holds before exiting. */
export interface Tracing {
  tracer: Tracer;
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
export async function createTracing(env: Env = process.env): Promise<Tracing | undefined> {
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
  const [{ TracerProvider, BatchSpanProcessor }, { resourceFromAttributes }, exporterModule] =
    await Promise.all([
      import('@opentelemetry/sdk-trace'),
      import('@opentelemetry/resources'),
      protocol === 'http/json'
        ? import('@opentelemetry/exporter-trace-otlp-http')
        : import('@opentelemetry/exporter-trace-otlp-proto'),
    ]);
  const exporter = new exporterModule.OTLPTraceExporter();
  const delay = Number(env.OTEL_BSP_SCHEDULE_DELAY);
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || 'parley' }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter,
        ...(delay > 0 ? { scheduledDelayMillis: delay } : {}),
      }),
    ],
  });
  return {
    tracer: provider.getTracer('parley'),
    target: `${endpoint} (${protocol})`,
    shutdown: () => provider.shutdown(),
  };
}
