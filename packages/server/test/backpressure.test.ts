import { connect } from 'node:net';
import { Writable } from 'node:stream';
import {
  checkConformance,
  encodeEvent,
  type ParleyEvent,
  readParleyEvents,
} from '@parley/protocol';
import type { ScriptTurn } from '@parley/providers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipeRunEvents } from '../src/runs/event-stream.ts';
import { LiveRun } from '../src/runs/live-run.ts';
import { textRun } from './support/event-script.ts';
import { client, scriptedAgent, startTestServer, type TestServer } from './support/harness.ts';

/*
 * A slow client must not make the server buffer without bound, and must not slow the run.
 */

const bigRun = (runId: string, deltas: number, size: number) =>
  textRun(runId, { deltas, delta: 'x'.repeat(size) });

describe('pipeRunEvents', () => {
  it('never lets a slow writer buffer more than its high-water mark plus one frame', async () => {
    const live = new LiveRun('run', 'ws', 'agent', 'conv');
    const events = bigRun('run', 2_000, 1_024);
    for (const e of events) live.events.push(e);
    live.reveal(events.length, true);
    const highWaterMark = 16 * 1024;
    const frame = Buffer.byteLength(encodeEvent(events[5]!));
    let maxBuffered = 0;
    let received = '';
    const slow = new Writable({
      highWaterMark,
      write(chunk, _encoding, done) {
        received += chunk.toString();
        setImmediate(done); // one chunk per turn of the event loop: a slow reader
      },
    });
    const original = slow.write.bind(slow);
    slow.write = ((chunk: string) => {
      const ok = original(chunk);
      maxBuffered = Math.max(maxBuffered, slow.writableLength);
      return ok;
    }) as typeof slow.write;
    const last = await pipeRunEvents(
      slow,
      {
        live: () => live,
        stored: async () => [],
        ended: async () => ({ last: undefined }),
      },
      { afterSeq: 0, closed: new Promise(() => {}) },
    );
    await new Promise((r) => slow.end(r));
    expect(last).toBe(events.length);
    expect(maxBuffered).toBeLessThanOrEqual(highWaterMark + frame);
    // The total was two megabytes: far more than was ever buffered.
    expect(received.length).toBeGreaterThan(2_000 * 1_024);
    const parsed: ParleyEvent[] = [];
    for await (const e of readParleyEvents(new Response(received).body!)) parsed.push(e);
    expect(parsed).toEqual(events);
  });

  it('stops at once when the client goes away', async () => {
    const live = new LiveRun('run', 'ws', 'agent', 'conv');
    for (const e of bigRun('run', 10, 10)) live.events.push(e);
    live.reveal(5);
    let close!: () => void;
    const closed = new Promise<void>((r) => {
      close = r;
    });
    const sink = new Writable({ write: (_c, _e, done) => done() });
    const piping = pipeRunEvents(
      sink,
      {
        live: () => live,
        stored: async () => [],
        ended: async () => false,
      },
      {
        afterSeq: 0,
        closed,
      },
    );
    await new Promise((r) => setTimeout(r, 20));
    close();
    expect(await piping).toBe(5);
  });
});

describe('a client that stops reading (real socket)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    const words = Array.from({ length: 4_000 }, (_, i) => `word${i} ${'y'.repeat(200)} `).join('');
    const script: ScriptTurn[] = [[{ type: 'text', text: words }]];
    const res = await client(server.url, server.token)(
      'POST',
      `/v1/workspaces/${server.workspaceId}/agents`,
      {
        definition: scriptedAgent('flood', script),
        deploy: true,
      },
    );
    expect(res.status).toBe(201);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('does not hold the run back: it finishes while the client is paused, and the client then gets all of it', async () => {
    const { port } = new URL(server.url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    const body = JSON.stringify({ input: 'flood me' });
    socket.write(
      `POST /v1/workspaces/${server.workspaceId}/agents/flood/runs HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
        `Authorization: Bearer ${server.token}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    let raw = '';
    const headers = await new Promise<string>((resolve) => {
      const onData = (chunk: Buffer) => {
        raw += chunk.toString('latin1');
        const end = raw.indexOf('\r\n\r\n');
        if (end >= 0) {
          socket.off('data', onData);
          socket.pause();
          resolve(raw.slice(0, end));
        }
      };
      socket.on('data', onData);
    });
    const runId = /x-parley-run-id: (\S+)/i.exec(headers)![1]!;
    // The client reads nothing; the run still ends.
    const call = client(server.url, server.token);
    let status = '';
    for (let i = 0; i < 200 && status !== 'succeeded'; i++) {
      status = ((await (await call('GET', `/v1/runs/${runId}`)).json()) as { status: string })
        .status;
      if (status !== 'succeeded') await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe('succeeded');
    // Now it reads: every event arrives, in order, conformant.
    const done = new Promise<void>((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        raw += chunk.toString('latin1');
        if (raw.includes('event: run.finish')) resolve();
      });
    });
    socket.resume();
    await done;
    socket.destroy();
    const sse = Buffer.from(raw.slice(raw.indexOf('\r\n\r\n') + 4), 'latin1')
      .toString('utf8')
      .replace(/\r\n[0-9a-f]+\r\n/g, '') // chunked transfer framing
      .replace(/^[0-9a-f]+\r\n/, '');
    const events: ParleyEvent[] = [];
    for await (const e of readParleyEvents(new Response(sse).body!)) events.push(e);
    expect(checkConformance(events)).toEqual([]);
    expect(events.filter((e) => e.type === 'text.delta').length).toBe(4_000 * 2);
  });
});
