import { describe, expect, it } from 'vitest';
import { EXAMPLE_STREAM } from '../example-stream.ts';
import { createSseDecoder, type SseMessage } from './decode.ts';
import { encodeComment, encodeEvent, eventJson, HEARTBEAT_FRAME, SSE_HEADERS } from './encode.ts';
import { parseEventFrame, readParleyEvents, StreamDecodeError } from './read-events.ts';

async function* bytesOf(text: string, size: number) {
  const bytes = new TextEncoder().encode(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

describe('SSE encoding of Parley events', () => {
  it('frames an event as id / event / data', () => {
    const event = EXAMPLE_STREAM[4]!;
    expect(encodeEvent(event)).toBe(
      `id: ${event.seq}\nevent: text.delta\ndata: ${JSON.stringify(event)}\n\n`,
    );
  });

  it("gives the event's JSON from the same one serialisation as its frame", () => {
    const event = { ...EXAMPLE_STREAM[4]! };
    const json = eventJson(event);
    expect(json).toBe(JSON.stringify(event));
    expect(encodeEvent(event)).toBe(`id: ${event.seq}\nevent: text.delta\ndata: ${json}\n\n`);
    expect(eventJson(event)).toBe(json);
  });

  it('keeps data on one line even when text has line breaks', () => {
    const event = {
      ...EXAMPLE_STREAM[4]!,
      delta: 'a\nb\r\nc\u2028',
    } as (typeof EXAMPLE_STREAM)[number];
    const frame = encodeEvent(event);
    expect(frame.split('\n').filter((l) => l.startsWith('data:'))).toHaveLength(1);
    const seen: SseMessage[] = [];
    const decoder = createSseDecoder({ onMessage: (m) => seen.push(m) });
    decoder.push(frame);
    expect(parseEventFrame(seen[0]!)).toEqual(event);
  });

  it('heartbeats and comments are comments', () => {
    expect(HEARTBEAT_FRAME).toBe(': hb\n\n');
    expect(encodeComment('two\nlines')).toBe(': two lines\n\n');
    expect(SSE_HEADERS['x-parley-stream']).toBe('1');
  });

  for (const size of [1, 7, 64]) {
    it(`round-trips the example stream through ${size}-byte slices with heartbeats`, async () => {
      const wire = EXAMPLE_STREAM.map(
        (e, i) => (i % 5 === 0 ? HEARTBEAT_FRAME : '') + encodeEvent(e),
      ).join('');
      let comments = 0;
      const events = [];
      for await (const e of readParleyEvents(bytesOf(wire, size), { onComment: () => comments++ }))
        events.push(e);
      expect(events).toEqual(EXAMPLE_STREAM);
      expect(comments).toBe(Math.ceil(EXAMPLE_STREAM.length / 5));
    });
  }

  it('skips unknown event types and rejects broken ones with a clear error', async () => {
    const unknown = 'id: 1\nevent: future.thing\ndata: {"type":"future.thing","v":1}\n\n';
    const events = [];
    for await (const e of readParleyEvents(bytesOf(unknown, 5))) events.push(e);
    expect(events).toEqual([]);

    const notJson = { event: 'text.delta', data: '{nope', id: '3', lastEventId: '3' };
    expect(() => parseEventFrame(notJson)).toThrow(StreamDecodeError);
    const badField = { ...notJson, data: JSON.stringify({ ...EXAMPLE_STREAM[4], delta: 7 }) };
    expect(() => parseEventFrame(badField)).toThrow(/delta/);
  });
});
