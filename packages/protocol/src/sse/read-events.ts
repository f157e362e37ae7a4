import { isKnownEventType, type ParleyEvent, ParleyEventSchema } from '../events.ts';
import { type ReadSseOptions, readSse, type SseBody, type SseMessage } from './decode.ts';

/** A frame on a Parley stream that is not a valid event. */
export class StreamDecodeError extends Error {
  override readonly name = 'StreamDecodeError';
  readonly frame: SseMessage;
  constructor(message: string, frame: SseMessage) {
    super(message);
    this.frame = frame;
  }
}

/**
 * Parses one SSE message into a Parley event. Returns `undefined` for event types this
 * version does not know (clients must ignore them: types may be added within v1).
 */
export function parseEventFrame(frame: SseMessage): ParleyEvent | undefined {
  let json: unknown;
  try {
    json = JSON.parse(frame.data);
  } catch {
    throw new StreamDecodeError(`event ${frame.id ?? '?'} has data that is not JSON`, frame);
  }
  const type = (json as { type?: unknown } | null)?.type;
  if (typeof type !== 'string' || !isKnownEventType(type)) return undefined;
  const parsed = ParleyEventSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') || '(root)';
    throw new StreamDecodeError(
      `event ${frame.id ?? '?'} (${type}): ${where}: ${issue?.message}`,
      frame,
    );
  }
  return parsed.data;
}

/** Reads a Parley event stream body into validated events, skipping unknown types. */
export async function* readParleyEvents(
  body: SseBody,
  options: ReadSseOptions = {},
): AsyncGenerator<ParleyEvent> {
  for await (const frame of readSse(body, options)) {
    const event = parseEventFrame(frame);
    if (event) yield event;
  }
}
