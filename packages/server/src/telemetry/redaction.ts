import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import { findKeyShaped } from '@parley/agent-file';
import { type WatchedSecrets, watchedSecrets } from './run-secrets.ts';

const REDACTED = '[REDACTED]';
/** Secret values shorter than this are not scrubbed (they would match ordinary text). */
const MIN_SECRET_LENGTH = 6;

/*
 * Loaded with the OpenTelemetry SDK, only when tracing is on.
 */

/** A trace's values to scrub, by the watched list they were made from and its total size. */
const scrubbable = new WeakMap<WatchedSecrets, { size: number; values: readonly string[] }>();

/**
 * The secret values of a trace's watched runs worth scrubbing, longest first (a value inside
 * another is not replaced first). Made again only when the trace's secrets changed: a run
 * watched or unwatched (a new list), or a value added to a run's set (a larger total: the
 * sets only grow while watched); otherwise the list of the span that ended before.
 */
export function secretsToScrub(traceId: string): readonly string[] {
  const watched = watchedSecrets(traceId);
  if (!watched) return [];
  const size = watched.reduce((total, set) => total + set.size, 0);
  const cached = scrubbable.get(watched);
  if (cached?.size === size) return cached.values;
  const values = watched
    .flatMap((set) => [...set])
    .filter((value) => value.length >= MIN_SECRET_LENGTH)
    .sort((a, b) => b.length - a.length);
  scrubbable.set(watched, { size, values });
  return values;
}

/** Replaces the trace's secret values and anything shaped like a credential. */
function scrubberFor(traceId: string): (text: string) => string {
  const values = secretsToScrub(traceId);
  return (text) => {
    let out = text;
    for (const value of values) out = out.split(value).join(REDACTED);
    for (const { value } of findKeyShaped(out)) out = out.split(value).join(REDACTED);
    return out;
  };
}

type Attributes = ReadableSpan['attributes'];

function scrubAttributes(attributes: Attributes, scrub: (text: string) => string): Attributes {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (typeof value === 'string') out[key] = scrub(value);
    else if (Array.isArray(value))
      out[key] = value.map((item) => (typeof item === 'string' ? scrub(item) : item));
    else out[key] = value;
  }
  return out as Attributes;
}

/**
 * A span processor in front of the exporting one: every span leaves with its attributes, its
 * events' attributes and its status message scrubbed of the run's secret values and of
 * anything shaped like a credential, whatever recorded them (content capture, a provider's
 * error message, a future span). The span itself is not changed: the exporter gets a view.
 */
export function redactingProcessor(next: SpanProcessor): SpanProcessor {
  return {
    onStart: (span: Span, context: Context) => next.onStart(span, context),
    onEnd(span: ReadableSpan) {
      const scrub = scrubberFor(span.spanContext().traceId);
      const view = Object.create(span, {
        attributes: { value: scrubAttributes(span.attributes, scrub), enumerable: true },
        events: {
          value: span.events.map((event) => ({
            ...event,
            ...(event.attributes ? { attributes: scrubAttributes(event.attributes, scrub) } : {}),
          })),
          enumerable: true,
        },
        status: {
          value: {
            ...span.status,
            ...(span.status.message ? { message: scrub(span.status.message) } : {}),
          },
          enumerable: true,
        },
      }) as ReadableSpan;
      next.onEnd(view);
    },
    forceFlush: () => next.forceFlush(),
    shutdown: () => next.shutdown(),
  };
}
