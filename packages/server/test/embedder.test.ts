import { createServer, type Server } from 'node:http';
import { defineAgent } from '@parley/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEmbedding } from '../src/runs/embedder.ts';

/*
 * A run's embedding function (issue #24): the provider's standard model unless the agent
 * names one, a note instead of a function where there is none, and a pause after a failed
 * call (a chat-only local server answers /embeddings with 404 every time: runs then recall by
 * words instead of each paying for the failure). Local server, real socket.
 */

let server: Server;
let baseURL = '';
let calls = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    calls++;
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: `no route ${req.url}` } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  baseURL = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/v1`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

const agent = (model: Record<string, unknown>, memory: Record<string, unknown> = {}) =>
  defineAgent({ name: 'e', instructions: 'x', model: model as never, memory: memory as never });

describe('runEmbedding', () => {
  it("uses the provider's standard model, or says why there is none", () => {
    expect(runEmbedding(agent({ provider: 'scripted', model: 'demo' }), new Map())).toMatchObject({
      modelId: 'scripted/scripted-embedding',
    });
    const claude = runEmbedding(agent({ provider: 'anthropic', model: 'c' }), new Map());
    expect(claude).toEqual({
      note: 'anthropic has no embedding model: name one in memory.embeddingModel for semantic recall',
    });
    const unkeyed = runEmbedding(agent({ provider: 'openai', model: 'gpt' }), new Map());
    expect(unkeyed.note).toBe("the embedding model's key (secret OPENAI_API_KEY) is not set");
  });

  it('embeds offline with the scripted model, deterministically, at the asked size', async () => {
    const scripted = agent(
      { provider: 'scripted', model: 'demo' },
      { embeddingModel: { provider: 'scripted', model: 'e', dimensions: 12 } },
    );
    const { embed, modelId } = runEmbedding(scripted, new Map());
    const [a, b] = await embed!(['tea time', 'tea time']);
    expect(modelId).toBe('scripted/e@12');
    expect(a).toHaveLength(12);
    expect(a).toEqual(b);
  });

  it('pauses an endpoint that failed: the next runs get a note, not another failing call', async () => {
    const local = agent(
      { provider: 'scripted', model: 'demo' },
      { embeddingModel: { provider: 'openai-compatible', model: 'none', baseURL } },
    );
    const first = runEmbedding(local, new Map());
    await expect(first.embed!(['hello'])).rejects.toThrow();
    const seen = calls;
    const next = runEmbedding(local, new Map());
    expect(next.embed).toBeUndefined();
    expect(next.note).toMatch(/^the embedding model failed recently \(.+\): words for a minute$/);
    expect(calls).toBe(seen);
  });
});

describe('the embedding model of a key', () => {
  let keyed: Server;
  const seen: string[] = [];
  let keyedURL = '';
  beforeAll(async () => {
    keyed = createServer((req, res) => {
      seen.push(req.headers.authorization ?? '');
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ data: [{ index: 0, embedding: [0.6, 0.8] }], model: 'e' }));
      });
    });
    await new Promise<void>((resolve) => keyed.listen(0, '127.0.0.1', resolve));
    const address = keyed.address();
    keyedURL = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/v1`;
  });
  afterAll(() => new Promise((resolve) => keyed.close(resolve)));

  it('is made once per endpoint and key: a rotated key is the one sent', async () => {
    const remembering = agent(
      { provider: 'scripted', model: 'demo' },
      { embeddingModel: { provider: 'openai', model: 'e', baseURL: keyedURL } },
    );
    for (const key of ['sk-one', 'sk-one', 'sk-two', 'sk-one']) {
      const { embed } = runEmbedding(remembering, new Map([['OPENAI_API_KEY', key]]));
      expect(await embed!(['tea'])).toEqual([[0.6, 0.8]]);
    }
    expect(seen).toEqual(['Bearer sk-one', 'Bearer sk-one', 'Bearer sk-two', 'Bearer sk-one']);
  });
});
