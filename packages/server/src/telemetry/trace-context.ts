import { randomFillSync } from 'node:crypto';
import { type Context, ROOT_CONTEXT, type Span, trace } from '@opentelemetry/api';

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) as Parley carries it, with or
 * without the OpenTelemetry SDK: every request and run has a trace id, so logs, the run record
 * and its `run.start` event can be joined with traces wherever they are looked at.
 */
export interface TraceContext {
  /** 32 lowercase hex digits, never all zeros. */
  traceId: string;
  /** The span children of this context hang from (16 hex digits). */
  spanId: string;
  /** The caller's sampling decision (trace-flags bit 0); true when Parley starts the trace. */
  sampled: boolean;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZEROS = /^0+$/;

/**
 * The caller's `traceparent`, or undefined when it is absent or invalid (then a new trace
 * starts, as the specification asks). Version 00 has exactly four fields; a later version may
 * append more, which are ignored; version ff is invalid.
 */
export function parseTraceparent(header: string | string[] | undefined): TraceContext | undefined {
  if (typeof header !== 'string') return undefined;
  const match = TRACEPARENT.exec(header.trim());
  if (!match) return undefined;
  const [, version, traceId, spanId, flags, rest] = match as unknown as string[];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (ZEROS.test(traceId!) || ZEROS.test(spanId!)) return undefined;
  return { traceId: traceId!, spanId: spanId!, sampled: (Number.parseInt(flags!, 16) & 1) === 1 };
}

/**
 * Random bytes drawn from a pool filled 4 KiB at a time: every request and run takes ids, and
 * a call into the system's generator for each 8 or 16 bytes is most of what an id costs.
 */
const pool = Buffer.alloc(4096);
let used = pool.length;
function randomHex(bytes: number): string {
  if (used + bytes > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  used += bytes;
  return pool.toString('hex', used - bytes, used);
}

export const newTraceId = () => randomHex(16);
export const newSpanId = () => randomHex(8);

/** The header that makes a downstream request a child of `context`. */
export function formatTraceparent(context: TraceContext): string {
  return `00-${context.traceId}-${context.spanId}-${context.sampled ? '01' : '00'}`;
}

/** An OpenTelemetry context whose parent is `parent` (a caller's span, or one of ours). */
export function otelParent(parent: TraceContext | undefined): Context {
  if (!parent) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: parent.traceId,
    spanId: parent.spanId,
    traceFlags: parent.sampled ? 1 : 0,
    isRemote: true,
  });
}

/** The context a span's children hang from. */
export function contextOf(span: Span): TraceContext {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return { traceId, spanId, sampled: (traceFlags & 1) === 1 };
}

/**
 * A context for work that starts here without a span of its own (tracing off): the caller's
 * trace when there is one, else a new one; a new span id either way, so that what it calls
 * downstream names this work, not the caller, as its parent.
 */
export function childContext(parent: TraceContext | undefined): TraceContext {
  return {
    traceId: parent?.traceId ?? newTraceId(),
    spanId: newSpanId(),
    sampled: parent?.sampled ?? true,
  };
}

/**
 * `fetch` whose requests carry `traceparent` (unless the caller set one): what a run's plugins
 * call becomes part of the run's trace downstream.
 */
export function withTraceparent(
  fetchFn: typeof fetch,
  traceparent: string | undefined,
): typeof fetch {
  if (!traceparent) return fetchFn;
  return (input, init) => {
    const headers = new Headers(
      init?.headers ?? (input instanceof Request ? input.headers : undefined),
    );
    if (!headers.has('traceparent')) headers.set('traceparent', traceparent);
    return fetchFn(input, { ...init, headers });
  };
}
