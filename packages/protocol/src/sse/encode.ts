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

/** Frames already built, by event object: an event is encoded once for all its subscribers. */
const frames = new WeakMap<ParleyEvent, string>();

/**
 * One event as an SSE frame: `id: <seq>\nevent: <type>\ndata: <json>\n\n`. The frame is kept
 * with the event object (events are not changed once stamped): every stream showing the same
 * event reuses it.
 */
export function encodeEvent(event: ParleyEvent): string {
  let frame = frames.get(event);
  if (frame === undefined) {
    // JSON.stringify escapes CR and LF, so the data always fits on one line.
    frame = `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
    frames.set(event, frame);
  }
  return frame;
}

/** An SSE comment frame; line breaks in `text` are replaced so it stays one comment. */
export function encodeComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, ' ')}\n\n`;
}

/** The heartbeat frame: a comment, so it carries no seq and clients never see it as an event. */
export const HEARTBEAT_FRAME = encodeComment('hb');
