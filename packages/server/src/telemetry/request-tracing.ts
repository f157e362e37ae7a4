import type { IncomingMessage } from 'node:http';
import { ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  childContext,
  contextOf,
  otelParent,
  parseTraceparent,
  type TraceContext,
} from './trace-context.ts';
import type { Tracing } from './tracing.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** This request's trace: the caller's `traceparent` continued, or a new trace. */
    trace: TraceContext;
  }
}

/** The trace a request arrived with, and the one chosen for it (the same, or a new one). */
interface Arrival {
  incoming: TraceContext | undefined;
  chosen: TraceContext;
}

/**
 * Every request joins a trace: the caller's (`traceparent`) or a new one. All its log lines
 * carry the trace id (`traceId`, from Fastify's first "incoming request" on), and what it
 * starts (a run) hangs from it. With tracing on, each request is also an HTTP server span
 * (`{method} {route}`, the semantic conventions' HTTP attributes; the route template, never
 * the caller's path parameters or query, which may hold ids and tokens).
 */
export function registerRequestTracing(app: FastifyInstance, tracing: Tracing | undefined) {
  app.decorateRequest('trace', undefined as unknown as TraceContext);
  const arrivals = new WeakMap<IncomingMessage, Arrival>();
  // Fastify makes the request's logger before routing and before any hook: the trace is
  // chosen here so that its first line already has the id.
  app.setChildLoggerFactory((logger, bindings, options, raw) => {
    const incoming = parseTraceparent(raw.headers.traceparent);
    const chosen = incoming ?? childContext(undefined);
    arrivals.set(raw, { incoming, chosen });
    return logger.child({ ...bindings, traceId: chosen.traceId }, options);
  });
  const spans = new WeakMap<FastifyRequest, Span>();

  app.addHook('onRequest', async (request) => {
    const arrival = arrivals.get(request.raw) ?? {
      incoming: undefined,
      chosen: childContext(undefined),
    };
    if (!tracing) {
      request.trace = arrival.chosen;
      return;
    }
    const route = request.routeOptions.url;
    const start = () =>
      tracing.tracer.startSpan(
        route ? `${request.method} ${route}` : request.method,
        {
          kind: SpanKind.SERVER,
          attributes: {
            'http.request.method': request.method,
            ...(route ? { 'http.route': route } : {}),
            'url.scheme': request.protocol,
          },
        },
        arrival.incoming ? otelParent(arrival.incoming) : ROOT_CONTEXT,
      );
    // A new trace gets the id the log lines already carry.
    const span = arrival.incoming ? start() : tracing.withTraceId(arrival.chosen.traceId, start);
    spans.set(request, span);
    request.trace = contextOf(span);
  });

  if (!tracing) return;
  /** Ends the request's span: with the response's status, or as aborted by the client. */
  const end = (request: FastifyRequest, reply: FastifyReply | undefined) => {
    const span = spans.get(request);
    if (!span) return;
    spans.delete(request);
    const errorType = !reply ? 'aborted' : reply.statusCode >= 500 ? String(reply.statusCode) : '';
    if (reply) span.setAttribute('http.response.status_code', reply.statusCode);
    if (errorType) {
      span.setAttribute('error.type', errorType);
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  };
  app.addHook('onResponse', async (request, reply) => end(request, reply));
  app.addHook('onRequestAbort', async (request) => end(request, undefined));
}
