/**
 * How much the adapters add on top of reading the bytes: runs the largest shared transcripts
 * through (a) SSE decoding + JSON.parse only and (b) the full adapter path in-process (decode,
 * parse, zod-checked mapping, part tracking), and (c) end to end over a loopback HTTP server
 * against a plain `fetch` + `text()` of the same body. Prints microseconds per SSE event.
 *
 *   node packages/providers/bench/adapter-overhead.ts
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readSse } from '@parley/protocol';
import { createAnthropicStreamMapper } from '../src/anthropic/anthropic-stream-mapper.ts';
import { createModel } from '../src/create-model.ts';
import type { ProviderName } from '../src/model.ts';
import { createChatStreamMapper } from '../src/openai-chat/chat-stream-mapper.ts';
import { createResponsesStreamMapper } from '../src/openai-responses/responses-stream-mapper.ts';
import { createOpenParts } from '../src/shared/open-parts.ts';
import type { StreamMapper } from '../src/shared/stream-mapper.ts';

const fixtures = new URL('../../../../shared/fixtures/providers/', import.meta.url);
const cases: { file: string; provider: ProviderName; mapper: () => StreamMapper }[] = [
  {
    file: 'openai-chat-text-include-usage.sse',
    provider: 'openai',
    mapper: () => createChatStreamMapper({ provider: 'openai' }),
  },
  {
    file: 'openai-responses-function-call.sse',
    provider: 'openai-responses',
    mapper: () => createResponsesStreamMapper(),
  },
  {
    file: 'anthropic-tool-use-docs.sse',
    provider: 'anthropic',
    mapper: () => createAnthropicStreamMapper(),
  },
];
const ROUNDS = 200;

async function decodeOnly(bytes: Uint8Array): Promise<number> {
  let events = 0;
  for await (const message of readSse([bytes])) {
    if (message.data !== '[DONE]') JSON.parse(message.data);
    events++;
  }
  return events;
}

async function decodeAndMap(bytes: Uint8Array, mapper: StreamMapper): Promise<number> {
  const parts = createOpenParts();
  let payloads = 0;
  for await (const message of readSse([bytes])) {
    if (message.data === '[DONE]') break;
    for (const payload of mapper.push(message.event, JSON.parse(message.data))) {
      parts.track(payload);
      payloads++;
    }
  }
  mapper.end();
  return payloads;
}

async function time(rounds: number, run: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 20; i++) await run(); // warm up
  const started = performance.now();
  for (let i = 0; i < rounds; i++) await run();
  return (performance.now() - started) / rounds;
}

let body: Uint8Array = new Uint8Array();
const server = createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'text/event-stream' });
  response.end(body);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

for (const { file, provider, mapper } of cases) {
  body = readFileSync(new URL(file, fixtures));
  const events = await decodeOnly(body);
  const decodeMs = await time(ROUNDS, () => decodeOnly(body));
  const mapMs = await time(ROUNDS, () => decodeAndMap(body, mapper()));
  const model = createModel({ provider, model: 'bench', apiKey: 'k', baseURL: `${origin}/v1` });
  const rawMs = await time(ROUNDS / 4, async () => {
    const response = await fetch(`${origin}/v1`, { method: 'POST', body: '{}' });
    await response.text();
  });
  const adapterMs = await time(ROUNDS / 4, async () => {
    for await (const _ of model.stream({ messages: [{ role: 'user', content: 'hi' }] })) {
      // drain
    }
  });
  const perEvent = (ms: number) => `${((ms * 1000) / events).toFixed(1)} µs/event`;
  console.log(
    `${file} (${events} events, ${(body.length / 1024).toFixed(1)} KiB)\n` +
      `  in-process: decode+parse ${decodeMs.toFixed(2)} ms (${perEvent(decodeMs)}), ` +
      `+ mapping ${mapMs.toFixed(2)} ms (${perEvent(mapMs)}), mapping adds ${perEvent(mapMs - decodeMs)}\n` +
      `  loopback:   fetch+text ${rawMs.toFixed(2)} ms, adapter stream ${adapterMs.toFixed(2)} ms, ` +
      `adds ${(adapterMs - rawMs).toFixed(2)} ms (${perEvent(adapterMs - rawMs)})`,
  );
}
server.close();
