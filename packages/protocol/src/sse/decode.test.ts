import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSseDecoder, readSse, type SseMessage } from './decode.ts';

interface Decoded {
  messages: SseMessage[];
  comments: string[];
  retries: number[];
}

function decodeInSlices(input: string, sliceSizes: (offset: number) => number): Decoded {
  const bytes = new TextEncoder().encode(input);
  const out: Decoded = { messages: [], comments: [], retries: [] };
  const decoder = createSseDecoder({
    onMessage: (m) => out.messages.push(m),
    onComment: (c) => out.comments.push(c),
    onRetry: (ms) => out.retries.push(ms),
  });
  for (let offset = 0; offset < bytes.length; ) {
    const size = Math.max(1, sliceSizes(offset));
    decoder.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  decoder.end();
  return out;
}

const msg = (data: string, extra: Partial<SseMessage> = {}): SseMessage => ({
  event: 'message',
  data,
  lastEventId: '',
  ...extra,
});

// WHATWG HTML "Server-sent events" §9.2.6 (interpreting an event stream), case by case.
const cases: {
  name: string;
  input: string;
  messages: SseMessage[];
  comments?: number;
  retries?: number[];
}[] = [
  { name: 'LF line ends', input: 'data: hello\n\n', messages: [msg('hello')] },
  {
    name: 'CRLF line ends',
    input: 'event: a\r\ndata: x\r\n\r\n',
    messages: [msg('x', { event: 'a' })],
  },
  { name: 'CR line ends', input: 'data: x\r\r', messages: [msg('x')] },
  {
    name: 'mixed line ends in one event',
    input: 'data: a\rdata: b\r\ndata: c\n\n',
    messages: [msg('a\nb\nc')],
  },
  {
    name: 'comments are not events',
    input: ': keep-alive\n: OPENROUTER PROCESSING\n\ndata: x\n\n',
    messages: [msg('x')],
    comments: 2,
  },
  {
    name: 'multi-line data joins with LF',
    input: 'data: line1\ndata: line2\n\n',
    messages: [msg('line1\nline2')],
  },
  { name: 'a field without a colon has an empty value', input: 'data\n\n', messages: [msg('')] },
  { name: 'two empty data fields give one LF', input: 'data\ndata\n\n', messages: [msg('\n')] },
  {
    name: 'only one space after the colon is removed',
    input: 'data:  two\n\ndata:none\n\n',
    messages: [msg(' two'), msg('none')],
  },
  { name: 'a colon inside the value is kept', input: 'data: a: b\n\n', messages: [msg('a: b')] },
  {
    name: 'an unterminated event at EOF is dropped',
    input: 'data: one\n\ndata: two\n',
    messages: [msg('one')],
  },
  {
    name: 'an unterminated line at EOF is dropped',
    input: 'data: one\n\ndata: two',
    messages: [msg('one')],
  },
  { name: 'an event with no data is not dispatched', input: 'event: ping\n\n', messages: [] },
  {
    name: 'the last event id persists across events',
    input: 'id: 7\ndata: a\n\ndata: b\n\n',
    messages: [msg('a', { id: '7', lastEventId: '7' }), msg('b', { lastEventId: '7' })],
  },
  {
    name: 'an id containing NUL is ignored',
    input: 'id: 1\ndata: a\n\nid: x\u0000y\ndata: b\n\n',
    messages: [msg('a', { id: '1', lastEventId: '1' }), msg('b', { lastEventId: '1' })],
  },
  {
    name: 'an empty id resets the last event id',
    input: 'id: 1\ndata: a\n\nid\ndata: b\n\n',
    messages: [msg('a', { id: '1', lastEventId: '1' }), msg('b', { id: '', lastEventId: '' })],
  },
  { name: 'unknown fields are ignored', input: 'foo: bar\ndata: x\n\n', messages: [msg('x')] },
  {
    name: 'retry takes only ASCII digits',
    input: 'retry: 1500\n\nretry: 15x\n\n',
    messages: [],
    retries: [1500],
  },
  { name: 'a leading BOM is skipped', input: '\uFEFFdata: x\n\n', messages: [msg('x')] },
  { name: 'blank lines before the first event', input: '\n\n\ndata: x\n\n', messages: [msg('x')] },
  {
    name: 'multi-byte UTF-8 survives any split',
    input: 'data: Grüße 🌍 日本語 — ok\n\n',
    messages: [msg('Grüße 🌍 日本語 — ok')],
  },
  {
    name: 'trailing spaces after JSON are data (Anthropic padding)',
    input: 'event: message_stop\ndata: {"type":"message_stop"}     \n\n',
    messages: [msg('{"type":"message_stop"}     ', { event: 'message_stop' })],
  },
];

const slicings: [string, (offset: number) => number][] = [
  ['whole', () => Number.MAX_SAFE_INTEGER],
  ['1-byte', () => 1],
  ['7-byte', () => 7],
];

describe('SSE decoder (WHATWG event-stream rules)', () => {
  for (const c of cases) {
    for (const [slicing, sizes] of slicings) {
      it(`${c.name} — ${slicing} slices`, () => {
        const out = decodeInSlices(c.input, sizes);
        expect(out.messages).toEqual(c.messages);
        expect(out.comments).toHaveLength(c.comments ?? 0);
        expect(out.retries).toEqual(c.retries ?? []);
      });
    }
    it(`${c.name} — random slices`, () => {
      const whole = decodeInSlices(c.input, () => Number.MAX_SAFE_INTEGER);
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 40 }),
          (sizes) => {
            let i = 0;
            const out = decodeInSlices(c.input, () => sizes[i++ % sizes.length]!);
            expect(out).toEqual(whole);
          },
        ),
        { numRuns: 50 },
      );
    });
  }

  it('a CR at the end of one chunk and LF at the start of the next is one line end', () => {
    const decoder = { messages: [] as SseMessage[] };
    const d = createSseDecoder({ onMessage: (m) => decoder.messages.push(m) });
    d.push('data: a\r');
    d.push('\ndata: b\r');
    d.push('\n\r\n');
    d.end();
    expect(decoder.messages).toEqual([msg('a\nb')]);
  });

  it('readSse reads a byte stream and stops at its end', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        const bytes = new TextEncoder().encode('id: 1\nevent: x\ndata: 1\n\n: hb\n\ndata: tail');
        for (let i = 0; i < bytes.length; i += 3) controller.enqueue(bytes.subarray(i, i + 3));
        controller.close();
      },
    });
    const comments: string[] = [];
    const seen: SseMessage[] = [];
    for await (const m of readSse(body, { onComment: (c) => comments.push(c) })) seen.push(m);
    expect(seen).toEqual([msg('1', { event: 'x', id: '1', lastEventId: '1' })]);
    expect(comments).toHaveLength(1);
  });
});
