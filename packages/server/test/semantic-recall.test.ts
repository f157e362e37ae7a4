import { type ParleyEvent, readParleyEvents } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddingsStandIn, startEmbeddingsStandIn } from './support/embeddings-stand-in.ts';
import { client, ENGINES, startTestServer, type TestServer } from './support/harness.ts';

/*
 * Issue #24: semantic recall in the server. An agent's memories are embedded on write and its
 * queries at recall by its `memory.embeddingModel` (here a local stand-in speaking OpenAI's
 * /v1/embeddings over a real socket, keyed by a workspace secret); recall fuses vector and
 * full-text ranks (`method: hybrid`). Changing the model's size re-embeds the memories in the
 * background: meanwhile recall uses the words (and says why), never mixing dimensions.
 */

type RecallEvent = Extract<ParleyEvent, { type: 'memory.recall' }>;

describe.each(ENGINES)('semantic recall [%s]', (engine) => {
  let server: TestServer;
  let embeddings: EmbeddingsStandIn;
  let call: ReturnType<typeof client>;
  let agents: string;
  const name = `recall-${engine}`;

  const definition = (dimensions?: number) => ({
    name,
    instructions: 'You remember people.',
    model: { provider: 'scripted', model: 'demo' },
    memory: {
      embeddingModel: {
        provider: 'openai-compatible',
        model: 'stand-in-embed',
        baseURL: embeddings.baseURL,
        apiKeySecret: 'EMBED_KEY',
        ...(dimensions ? { dimensions } : {}),
      },
    },
  });

  async function run(input: string): Promise<ParleyEvent[]> {
    const response = await call('POST', `${agents}/${name}/runs`, { input });
    expect(response.status).toBe(200);
    const events: ParleyEvent[] = [];
    for await (const event of readParleyEvents(response.body!)) events.push(event);
    expect(events.at(-1)?.type).toBe('run.finish');
    return events;
  }
  const recallOf = (events: ParleyEvent[]) =>
    events.find((e): e is RecallEvent => e.type === 'memory.recall');
  const memories = async () => {
    const agent = await server.store.withWorkspace(server.workspaceId, (ws) =>
      ws.agents.getByName(name),
    );
    return server.store.withWorkspace(server.workspaceId, (ws) =>
      ws.memories.list({ agentId: agent!.id }),
    );
  };

  beforeAll(async () => {
    embeddings = await startEmbeddingsStandIn();
    server = await startTestServer({ engine });
    call = client(server.url, server.token);
    agents = `/v1/workspaces/${server.workspaceId}/agents`;
    const secret = await call('PUT', `/v1/workspaces/${server.workspaceId}/secrets/EMBED_KEY`, {
      value: 'embed-key-123456789',
    });
    expect(secret.ok).toBe(true);
    const deployed = await call('POST', agents, { definition: definition(), deploy: true });
    expect(deployed.status).toBe(201);
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await embeddings?.close();
  });

  it('embeds a memory on write with the named model and key', async () => {
    await run('Hello! My name is Ada Lovelace.');
    const stored = await memories();
    expect(stored.map((m) => [m.content, m.embeddingDimensions])).toEqual([
      ["The user's name is Ada Lovelace", 8],
    ]);
    const request = embeddings.requests.find((r) => r.body.input.includes(stored[0]!.content));
    expect(request).toMatchObject({
      auth: 'Bearer embed-key-123456789',
      body: { model: 'stand-in-embed' },
    });
  });

  it('recalls by vector and words fused (hybrid), the relevant memory first', async () => {
    await run('I live in London.');
    const recall = recallOf(await run('Tell me my name'));
    expect(recall?.method).toBe('hybrid');
    const stored = await memories();
    const named = stored.find((m) => m.content.includes('Ada'))!;
    expect(recall?.hits[0]?.memoryId).toBe(named.id);
    // The query went through the embeddings endpoint too.
    expect(embeddings.requests.some((r) => r.body.input[0] === 'Tell me my name')).toBe(true);
  });

  it('re-embeds in the background after a size change, recalling by words meanwhile', async () => {
    const redeployed = await call('POST', `${agents}/${name}/versions`, {
      definition: definition(16),
    });
    expect(await redeployed.json()).toMatchObject({ created: true });
    const during = recallOf(await run('What is my name?'));
    expect(during?.method).toBe('fulltext');
    expect(during?.reason).toContain('re-embedded');
    // Waits on the condition: every memory carries a 16-dimension vector, none an 8.
    await expect
      .poll(async () => (await memories()).map((m) => m.embeddingDimensions), { timeout: 20_000 })
      .toEqual([16, 16]);
    expect(embeddings.requests.some((r) => r.body.dimensions === 16)).toBe(true);
    const after = recallOf(await run('What is my name?'));
    expect(after?.method).toBe('hybrid');
    expect(after?.hits.length).toBeGreaterThan(0);
  });
});
