import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { flushHeadersSoon } from '../src/http/sse-headers.ts';

const sent = (raw: ServerResponse) =>
  (raw as ServerResponse & { _headerSent?: boolean })._headerSent === true;

let close: (() => Promise<void>) | undefined;
afterEach(() => close?.());

/** A real server whose one response runs `respond`; answers what the client read. */
async function serve(respond: (raw: ServerResponse) => void) {
  const server = createServer((_, raw) => respond(raw));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  close = () => new Promise((resolve) => server.close(() => resolve()));
  const { port } = server.address() as AddressInfo;
  return fetch(`http://127.0.0.1:${port}/`);
}

it('an event stream’s headers wait for a first frame shown at the end of the same turn', async () => {
  let headersGoneBeforeFrame: boolean | undefined;
  const response = await serve((raw) => {
    raw.writeHead(200, { 'content-type': 'text/event-stream' });
    flushHeadersSoon(raw);
    // A run shows its first event at the end of the turn (LiveRun.show), possibly scheduled
    // after the flush: the headers must still leave with it, in one write.
    setImmediate(() => {
      headersGoneBeforeFrame = sent(raw);
      raw.end('event: run.start\ndata: {}\n\n');
    });
  });
  expect(await response.text()).toBe('event: run.start\ndata: {}\n\n');
  expect(headersGoneBeforeFrame).toBe(false);
});

it('a stream with nothing to send yet still gets its headers at once', async () => {
  let done: (() => void) | undefined;
  const response = await serve((raw) => {
    raw.writeHead(200, { 'content-type': 'text/event-stream', 'x-run': 'waiting' });
    flushHeadersSoon(raw);
    done = () => raw.end();
  });
  // The headers arrived while the body is still open (fetch resolves on the headers).
  expect(response.headers.get('x-run')).toBe('waiting');
  done!();
  expect(await response.text()).toBe('');
});
