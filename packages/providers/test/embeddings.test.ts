import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModel } from '../src/create-model.ts';
import { ProviderError } from '../src/shared/provider-error.ts';
import {
  type Handler,
  type LoopbackServer,
  startLoopbackServer,
} from './helpers/loopback-server.ts';

let handle: Handler = (_request, response) => void response.destroy();
let server: LoopbackServer;
beforeAll(async () => {
  server = await startLoopbackServer((request, response) => handle(request, response));
});
afterAll(() => server.close());

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Handler =>
  (_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(JSON.stringify(body));
  };

describe('embed(texts) over POST /embeddings', () => {
  it.each(['openai', 'openai-responses', 'openrouter', 'openai-compatible'] as const)(
    '%s sends the texts and returns vectors in input order',
    async (provider) => {
      handle = json(200, {
        object: 'list',
        // Out of order on purpose: the rows are matched back by `index`.
        data: [
          { object: 'embedding', index: 1, embedding: [0, 1, 0] },
          { object: 'embedding', index: 0, embedding: [1, 0, 0] },
        ],
        model: 'text-embedding-3-small',
        usage: { prompt_tokens: 4, total_tokens: 4 },
      });
      const model = createModel({
        provider,
        model: 'text-embedding-3-small',
        apiKey: 'sk-test',
        baseURL: server.baseURL,
      });
      const result = await model.embed!(['first', 'second']);
      expect(result).toEqual({
        embeddings: [
          [1, 0, 0],
          [0, 1, 0],
        ],
        model: 'text-embedding-3-small',
        dimensions: 3,
        usage: { inputTokens: 4 },
      });
      const request = server.requests.at(-1)!;
      expect(request.path).toBe('/v1/embeddings');
      expect(request.headers.authorization).toBe('Bearer sk-test');
      expect(request.json).toEqual({
        model: 'text-embedding-3-small',
        input: ['first', 'second'],
        encoding_format: 'float',
      });
    },
  );

  it('Anthropic has no embeddings endpoint, so its model has no embed', () => {
    const model = createModel({ provider: 'anthropic', model: 'claude-x', apiKey: 'k' });
    expect(model.embed).toBeUndefined();
  });

  it('throws a ProviderError with the typed error, after retrying what is retryable', async () => {
    let calls = 0;
    handle = (request, response) => {
      calls++;
      json(
        503,
        { error: { message: 'busy', type: 'server_error' } },
        { 'retry-after-ms': '5' },
      )(request, response);
    };
    const model = createModel({
      provider: 'openai-compatible',
      model: 'nomic-embed-text',
      baseURL: server.baseURL,
      maxRetries: 1,
    });
    const failure = await model.embed!(['x']).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ProviderError);
    expect((failure as ProviderError).error).toMatchObject({
      code: 'overloaded',
      httpStatus: 503,
      retryAfterMs: 5,
    });
    expect(calls).toBe(2);

    handle = json(404, { error: { message: "model 'nope' not found", type: 'not_found_error' } });
    await expect(model.embed!(['x'])).rejects.toMatchObject({ code: 'model_not_found' });
  });

  it('rejects an answer that is not an embeddings list as invalid_response', async () => {
    handle = json(200, { data: [{ embedding: 'not numbers' }] });
    const model = createModel({
      provider: 'openai-compatible',
      model: 'm',
      baseURL: server.baseURL,
    });
    await expect(model.embed!(['x'])).rejects.toMatchObject({ code: 'invalid_response' });
  });

  it('needs no request for no texts', async () => {
    const before = server.requests.length;
    const model = createModel({
      provider: 'openai',
      model: 'm',
      apiKey: 'k',
      baseURL: server.baseURL,
    });
    expect((await model.embed!([])).embeddings).toEqual([]);
    expect(server.requests.length).toBe(before);
  });
});
