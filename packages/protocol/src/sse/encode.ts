import type { ParleyEvent } from '../events.ts';
import { STREAM_VERSION, STREAM_VERSION_HEADER } from '../version.ts';

/** Response headers of every Parley event stream. */
export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  // Tells nginx-style proxies not to buffer the stream.
  'x-accel-buffering': 'no',
  [STREAM_VERSION_HEADER]: String(STREAM_VERSION),
} as const;

/** How often a server sends a heartbeat comment on an idle stream. */
export const HEARTBEAT_INTERVAL_MS = 15_000;

/** An event serialised once: its SSE frame, and where its JSON starts in it. */
interface Encoded {
  frame: string;
  jsonStart: number;
}

/** Frames already built, by event object: an event is encoded once for all its readers. */
const encoded = new WeakMap<ParleyEvent, Encoded>();

function encodedOf(event: ParleyEvent): Encoded {
  let done = encoded.get(event);
  if (done === undefined) {
    const head = `id: ${event.seq}\nevent: ${event.type}\ndata: `;
    // JSON.stringify escapes CR and LF, so the data always fits on one line.
    done = { frame: `${head}${JSON.stringify(event)}\n\n`, jsonStart: head.length };
    encoded.set(event, done);
  }
  return done;
}

/**
 * One event as an SSE frame: `id: <seq>\nevent: <type>\ndata: <json>\n\n`. The frame is kept
 * with the event object (events are not changed once stamped): every stream showing the same
 * event reuses it, and so does the event log (`eventJson`).
 */
export function encodeEvent(event: ParleyEvent): string {
  return encodedOf(event).frame;
}

/**
 * The event's JSON, from the same one serialisation as its SSE frame (a slice of it, no copy):
 * the event log stores these bytes, every subscriber is sent the frame around them.
 */
export function eventJson(event: ParleyEvent): string {
  const { frame, jsonStart } = encodedOf(event);
  return frame.slice(jsonStart, frame.length - 2);
}

/** An SSE comment frame; line breaks in `text` are replaced so it stays one comment. */
export function encodeComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, ' ')}\n\n`;
}

/** The heartbeat frame: a comment, so it carries no seq and clients never see it as an event. */
export const HEARTBEAT_FRAME = encodeComment('hb');
