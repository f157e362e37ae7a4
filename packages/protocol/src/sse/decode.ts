import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** One dispatched server-sent event, after the WHATWG event-stream parsing rules. */
export interface SseMessage {
  /** The event type; `message` when the frame had no `event:` field. */
  event: string;
  data: string;
  /** The `id:` field of this frame, if it had one. */
  id?: string;
  /** The last event id seen so far on this stream (persists across frames, as in the spec). */
  lastEventId: string;
}

export interface SseHandlers {
  onMessage: (message: SseMessage) => void;
  onComment?: (comment: string) => void;
  onRetry?: (ms: number) => void;
}

export interface SseDecoder {
  /** Feed bytes in any slicing (split UTF-8 characters are joined) or already-decoded text. */
  push(chunk: Uint8Array | string): void;
  /**
   * The stream ended. An event still buffered without its terminating blank line is
   * discarded, as the spec requires.
   */
  end(): void;
}

/**
 * A spec-exact event-stream decoder. Line parsing (CR, LF, CRLF, comments, a field without
 * a colon, one optional space after the colon, multi-line data, BOM) is done by
 * `eventsource-parser`, which passes our WHATWG edge-case suite; this wrapper adds byte input
 * with streaming UTF-8 decoding and the persistent last-event-id.
 */
export function createSseDecoder(handlers: SseHandlers): SseDecoder {
  const utf8 = new TextDecoder('utf-8');
  let lastEventId = '';
  const parser = createParser({
    onEvent(message: EventSourceMessage) {
      if (message.id !== undefined) lastEventId = message.id;
      const out: SseMessage = {
        event: message.event ?? 'message',
        data: message.data,
        lastEventId,
      };
      if (message.id !== undefined) out.id = message.id;
      handlers.onMessage(out);
    },
    onComment: handlers.onComment,
    onRetry: handlers.onRetry,
  });
  return {
    push(chunk) {
      parser.feed(typeof chunk === 'string' ? chunk : utf8.decode(chunk, { stream: true }));
    },
    end() {
      const rest = utf8.decode();
      if (rest) parser.feed(rest);
    },
  };
}

/** Anything that yields the bytes (or text) of an event stream, such as a fetch `Response.body`. */
export type SseBody =
  | AsyncIterable<Uint8Array | string>
  | Iterable<Uint8Array | string>
  | ReadableStream<Uint8Array>;

export interface ReadSseOptions {
  onComment?: (comment: string) => void;
  onRetry?: (ms: number) => void;
}

/** Reads an SSE body (a fetch `Response.body` or any byte iterable) as dispatched messages. */
export async function* readSse(
  body: SseBody,
  options: ReadSseOptions = {},
): AsyncGenerator<SseMessage> {
  const queue: SseMessage[] = [];
  const decoder = createSseDecoder({ ...options, onMessage: (m) => queue.push(m) });
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
    decoder.push(chunk);
    while (queue.length > 0) yield queue.shift()!;
  }
  decoder.end();
  while (queue.length > 0) yield queue.shift()!;
}
