import { checkConformance, type ParleyEvent, readParleyEvents } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestDocument } from '../src/knowledge/ingest.ts';
import { type EmbeddingsStandIn, startEmbeddingsStandIn } from './support/embeddings-stand-in.ts';
import { client, ENGINES, startTestServer, type TestServer } from './support/harness.ts';
import { makePdf } from './support/make-pdf.ts';

/*
 * Issue #24: knowledge bases. Documents of each format go in through the API (a PDF made
 * here, byte by byte), are cut along their structure, embedded by the agent's embedding
 * model (a local /v1/embeddings stand-in over a real socket) and versioned; a run retrieves
 * the best chunks as `knowledge.retrieve`, with their sources, into the model's context.
 * Another workspace sees none of them (row-level security), and a 10,000-chunk base is
 * stored in batches and searched fast.
 */

type Retrieve = Extract<ParleyEvent, { type: 'knowledge.retrieve' }>;

describe.each(ENGINES)('knowledge bases [%s]', (engine) => {
  let server: TestServer;
  let embeddings: EmbeddingsStandIn;
  let call: ReturnType<typeof client>;
  let kb: string;
  const agent = `kb-${engine}`;

  // biome-ignore lint/suspicious/noExplicitAny: test reads of API answers checked by toMatchObject
  const json = async (response: Response, status: number): Promise<any> => {
    const body = await response.json();
    expect(response.status, JSON.stringify(body)).toBe(status);
    return body;
  };
  const put = (name: string, document: Record<string, unknown>) =>
    call('PUT', `${kb}/${name}/documents`, document);

  beforeAll(async () => {
    embeddings = await startEmbeddingsStandIn();
    server = await startTestServer({ engine });
    call = client(server.url, server.token);
    kb = `/v1/workspaces/${server.workspaceId}/knowledge-bases`;
    const deployed = await call('POST', `/v1/workspaces/${server.workspaceId}/agents`, {
      definition: {
        name: agent,
        instructions: 'Answer from the manual.',
        model: { provider: 'scripted', model: 'demo' },
        memory: {
          autoExtract: false,
          embeddingModel: {
            provider: 'openai-compatible',
            model: 'stand-in-embed',
            baseURL: embeddings.baseURL,
          },
        },
      },
      deploy: true,
    });
    expect(deployed.status).toBe(201);
    await json(
      await call('PUT', `${kb}/${agent}`, { agent, chunkSize: 200, chunkOverlap: 20 }),
      201,
    );
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await embeddings?.close();
  });

  it('ingests Markdown along its headings, embedded, and versions a changed document', async () => {
    const markdown = [
      '# Kettle manual',
      'The Parley kettle boils one litre.',
      '## Descaling',
      'Fill with vinegar and water, boil, then rinse twice.',
      '## Warranty',
      'The warranty lasts two years from purchase.',
    ].join('\n\n');
    const added = await json(await put(agent, { name: 'manual.md', text: markdown }), 201);
    expect(added).toMatchObject({
      changed: true,
      embeddingModel: 'openai-compatible/stand-in-embed',
      document: { name: 'manual.md', mediaType: 'text/markdown', version: 1, chunkCount: 3 },
    });
    const again = await json(await put(agent, { name: 'manual.md', text: markdown }), 200);
    expect(again).toMatchObject({ changed: false, document: { version: 1 } });
    const changed = await json(
      await put(agent, { name: 'manual.md', text: `${markdown}\n\n## Safety\n\nUnplug it first.` }),
      200,
    );
    expect(changed).toMatchObject({ changed: true, document: { version: 2, chunkCount: 4 } });
    const base = await json(await call('GET', `${kb}/${agent}`), 200);
    expect(base).toMatchObject({
      embeddingModel: 'openai-compatible/stand-in-embed',
      embeddingDimensions: 8,
    });
  });

  it('ingests plain text, HTML (scripts dropped, headings kept) and a real PDF', async () => {
    const text = await json(
      await put(agent, {
        name: 'notes.txt',
        text: 'Opening hours are nine to five.\n\nClosed on Sundays.',
      }),
      201,
    );
    expect(text.document).toMatchObject({ mediaType: 'text/plain', chunkCount: 1 });
    const html = await json(
      await put(agent, {
        name: 'faq.html',
        text: '<html><head><title>x</title><script>steal()</script></head><body><h1>FAQ</h1><p>Shipping takes &amp; costs <b>three</b> days.</p><style>p{}</style></body></html>',
      }),
      201,
    );
    expect(html.document).toMatchObject({ mediaType: 'text/html', chunkCount: 1 });
    const pdf = makePdf([
      ['Refund policy', 'Refunds are paid within fourteen days.'],
      ['Contact us at the front desk.'],
    ]);
    const added = await json(
      await put(agent, { name: 'policy.pdf', base64: Buffer.from(pdf).toString('base64') }),
      201,
    );
    expect(added.document).toMatchObject({ mediaType: 'application/pdf', bytes: pdf.byteLength });
    const found = await json(
      await call('POST', `${kb}/${agent}/search`, { query: 'refunds paid', limit: 3 }),
      200,
    );
    expect(found.method).toBe('hybrid');
    expect(found.chunks[0]).toMatchObject({ document: 'policy.pdf' });
    expect(found.chunks[0].text).toContain('Refunds are paid within fourteen days.');
    const faq = await json(
      await call('POST', `${kb}/${agent}/search`, { query: 'shipping days', limit: 1 }),
      200,
    );
    expect(faq.chunks[0]).toMatchObject({ document: 'faq.html', heading: 'FAQ' });
    expect(faq.chunks[0].text).toBe('Shipping takes & costs three days.');
    // An unreadable PDF is the caller's problem, said as such.
    const broken = await put(agent, {
      name: 'broken.pdf',
      base64: Buffer.from('not a pdf').toString('base64'),
    });
    expect(broken.status).toBe(400);
  });

  it('retrieves the best chunks into a run, with their sources, as knowledge.retrieve', async () => {
    const response = await call(
      'POST',
      `/v1/workspaces/${server.workspaceId}/agents/${agent}/runs`,
      {
        input: 'How long does the warranty last?',
      },
    );
    const events: ParleyEvent[] = [];
    for await (const event of readParleyEvents(response.body!)) events.push(event);
    expect(checkConformance(events)).toEqual([]);
    const retrieve = events.find((e): e is Retrieve => e.type === 'knowledge.retrieve');
    expect(retrieve).toMatchObject({ query: 'How long does the warranty last?', method: 'hybrid' });
    expect(retrieve!.chunks[0]).toMatchObject({
      document: 'manual.md',
      heading: 'Kettle manual > Warranty',
    });
    const scores = retrieve!.chunks.map((c) => c.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  it('deletes a document and its chunks', async () => {
    const documents = await json(await call('GET', `${kb}/${agent}/documents`), 200);
    const notes = documents.find((d: { name: string }) => d.name === 'notes.txt');
    expect((await call('DELETE', `${kb}/${agent}/documents/${notes.id}`)).status).toBe(204);
    const found = await json(
      await call('POST', `${kb}/${agent}/search`, { query: 'opening hours' }),
      200,
    );
    expect(found.chunks.map((c: { document: string }) => c.document)).not.toContain('notes.txt');
  });

  it("shows another workspace none of a base's chunks, whatever ids it passes", async () => {
    const { store } = server;
    const base = await store.withWorkspace(server.workspaceId, (ws) =>
      ws.knowledge.getBaseByName(agent),
    );
    const user = await store.system.users.create({
      email: `kb-other-${engine}@example.test`,
      displayName: 'o',
    });
    const other = await store.system.workspaces.create({ name: 'other', ownerUserId: user.id });
    const seen = await store.withWorkspace(other.id, async (ws) => ({
      base: await ws.knowledge.getBase(base!.id),
      documents: await ws.knowledge.listDocuments(base!.id),
      search: await ws.knowledge.search({ baseIds: [base!.id], query: 'warranty refunds kettle' }),
    }));
    expect(seen).toEqual({ base: null, documents: [], search: { method: 'fulltext', chunks: [] } });
  });

  it('embeds a shared base with its own model, for every agent that retrieves from it', async () => {
    const shared = `handbook-${engine}`;
    const reader = `reader-${engine}`;
    // Another vector space than the agent's own (8 dimensions): the base's, whoever reads it.
    const model = {
      provider: 'openai-compatible',
      model: 'stand-in-embed',
      baseURL: embeddings.baseURL,
      dimensions: 16,
    };
    const made = await json(await call('PUT', `${kb}/${shared}`, { embeddingModel: model }), 201);
    expect(made).toMatchObject({ agentId: null, embeddingModelRef: model });
    const added = await json(
      await put(shared, {
        name: 'handbook.md',
        text: '# Handbook\n\n## Holidays\n\nStaff take thirty days of holiday a year.\n\n## Parking\n\nThe car park opens at seven.',
      }),
      201,
    );
    expect(added.embeddingModel).toBe('openai-compatible/stand-in-embed@16');
    const found = await json(
      await call('POST', `${kb}/${shared}/search`, { query: 'holiday days', limit: 1 }),
      200,
    );
    expect(found).toMatchObject({ method: 'hybrid', chunks: [{ heading: 'Handbook > Holidays' }] });

    // An agent with a model of its own (8 dimensions) reads the base: the query is embedded
    // with the base's model for it, and with the agent's for its own base.
    const deployed = await call('POST', `/v1/workspaces/${server.workspaceId}/agents`, {
      definition: {
        name: reader,
        instructions: 'Answer from the handbook.',
        model: { provider: 'scripted', model: 'demo' },
        memory: {
          autoExtract: false,
          embeddingModel: {
            provider: 'openai-compatible',
            model: 'stand-in-embed',
            baseURL: embeddings.baseURL,
          },
        },
        knowledge: { bases: [shared] },
      },
      deploy: true,
    });
    expect(deployed.status).toBe(201);
    const before = embeddings.requests.length;
    const response = await call(
      'POST',
      `/v1/workspaces/${server.workspaceId}/agents/${reader}/runs`,
      {
        input: 'How many holiday days do staff take?',
      },
    );
    const events: ParleyEvent[] = [];
    for await (const event of readParleyEvents(response.body!)) events.push(event);
    const retrieve = events.find((e): e is Retrieve => e.type === 'knowledge.retrieve');
    expect(retrieve).toMatchObject({ method: 'hybrid' });
    expect(retrieve!.chunks[0]).toMatchObject({
      document: 'handbook.md',
      heading: 'Handbook > Holidays',
    });
    const asked = embeddings.requests.slice(before).map((r) => r.body);
    expect(asked).toContainEqual(
      expect.objectContaining({ input: ['How many holiday days do staff take?'], dimensions: 16 }),
    );

    // Another model for the base: its chunks are re-embedded in the background.
    const moved = await json(
      await call('PUT', `${kb}/${shared}`, { embeddingModel: { ...model, dimensions: 12 } }),
      200,
    );
    expect(moved.embeddingModelRef).toMatchObject({ dimensions: 12 });
    let base = moved;
    for (let i = 0; i < 100 && base.embeddingDimensions !== 12; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      base = await json(await call('GET', `${kb}/${shared}`), 200);
    }
    expect(base).toMatchObject({
      embeddingModel: 'openai-compatible/stand-in-embed@12',
      embeddingDimensions: 12,
    });
    const again = await json(
      await call('POST', `${kb}/${shared}/search`, { query: 'car park', limit: 1 }),
      200,
    );
    expect(again).toMatchObject({ method: 'hybrid', chunks: [{ heading: 'Handbook > Parking' }] });
    // A model Parley cannot call is refused with the field that is wrong.
    const bad = await call('PUT', `${kb}/${shared}`, {
      embeddingModel: { provider: 'nobody', model: 'x' },
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'request.invalid' });
  });

  // On PostgreSQL only: the same batched INSERTs run on PGlite (the other tests), and CI's
  // time is short (on PGlite it took ~8 s on a loaded machine).
  if (engine === 'postgres')
    it('stores a 10,000-chunk base in batches and searches it fast', async () => {
      const { store } = server;
      const scope = { actor: { type: 'system' as const } };
      const base = await store.withWorkspace(server.workspaceId, (ws) =>
        ws.knowledge.createBase({ name: `big-${engine}`, chunkSize: 100, chunkOverlap: 0 }),
      );
      // 10,000 paragraphs of ~90 characters: one chunk each at chunkSize 100.
      const text = Array.from(
        { length: 10_000 },
        (_, i) =>
          `Paragraph ${i} tells about topic${i % 97} and item${i} in the large test corpus.`,
      ).join('\n\n');
      const started = performance.now();
      const result = await ingestDocument({
        store,
        workspaceId: server.workspaceId,
        scope,
        base,
        name: 'big.md',
        mediaType: 'text/markdown',
        bytes: new TextEncoder().encode(text),
        embedding: { modelId: 'stand-in', embed: async (texts) => texts.map(() => [1, 0, 0, 0]) },
      });
      const ingestMs = performance.now() - started;
      expect(result.document.chunkCount).toBe(10_000);
      const searched = performance.now();
      const found = await store.withWorkspace(server.workspaceId, (ws) =>
        ws.knowledge.search({ baseIds: [base.id], query: 'item4242', limit: 3 }),
      );
      const searchMs = performance.now() - searched;
      expect(found.chunks[0]?.text).toContain('item4242');
      console.info(
        `[${engine}] 10,000 chunks stored in ${Math.round(ingestMs)} ms, searched in ${Math.round(searchMs)} ms`,
      );
      expect(searchMs).toBeLessThan(2_000);
    }, 60_000);
});
