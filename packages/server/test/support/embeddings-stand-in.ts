import { createServer, type IncomingMessage, type Server } from 'node:http';

/**
 * A local stand-in for an OpenAI-style embeddings endpoint (`POST /v1/embeddings`, the wire
 * format of https://platform.openai.com/docs/api-reference/embeddings): each word of a text
 * adds to one of `dimensions` buckets (8 unless the request asks), normalised. Texts sharing
 * words get close vectors; enough to tell a relevant memory from an irrelevant one.
 */
export interface EmbeddingsStandIn {
  baseURL: string;
  /** Every request body and its authorization header, in order. */
  requests: { body: { model: string; input: string[]; dimensions?: number }; auth?: string }[];
  close(): Promise<void>;
}

function bucket(word: string, size: number): number {
  let hash = 2166136261;
  for (const char of word) hash = Math.imul(hash ^ char.codePointAt(0)!, 16777619);
  return (hash >>> 0) % size;
}

export function standInVector(text: string, dimensions = 8): number[] {
  const vector: number[] = new Array<number>(dimensions).fill(0);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])
    vector[bucket(word, dimensions)]! += 1;
  // A text without words still gets a valid (non-zero) vector.
  if (!vector.some((x) => x > 0)) vector[0] = 1;
  const norm = Math.hypot(...vector);
  return vector.map((x) => x / norm);
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const part of req) body += String(part);
  return body;
}

export async function startEmbeddingsStandIn(): Promise<EmbeddingsStandIn> {
  const requests: EmbeddingsStandIn['requests'] = [];
  const server: Server = createServer(async (req, res) => {
    if (req.method !== 'POST' || req.url !== '/v1/embeddings') {
      res.writeHead(404).end();
      return;
    }
    const body = JSON.parse(await bodyOf(req)) as EmbeddingsStandIn['requests'][number]['body'];
    requests.push({
      body,
      ...(req.headers.authorization ? { auth: req.headers.authorization } : {}),
    });
    const input = Array.isArray(body.input) ? body.input : [body.input];
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        object: 'list',
        model: body.model,
        data: input.map((text, index) => ({
          object: 'embedding',
          index,
          embedding: standInVector(text, body.dimensions),
        })),
        usage: { prompt_tokens: input.join(' ').length, total_tokens: input.join(' ').length },
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
