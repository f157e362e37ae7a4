import { sql } from 'drizzle-orm';
import { beforeAll, expect, it } from 'vitest';
import { EmbeddingMismatchError } from '../src/errors.ts';
import { vectorSearchQuery } from '../src/repositories/memories.ts';
import { describeEachEngine, seedWorkspace } from './support/engines.ts';

/*
 * Memory recall: cosine similarity over pgvector (HNSW for common sizes), full-text search as
 * the fallback, scope filters, and a fixed embedding size per agent that fails loudly.
 */

/** A deterministic pseudo-random unit vector. */
function vec(seed: number, dimensions: number): number[] {
  let x = seed * 2_654_435_761 + 1;
  const v = Array.from({ length: dimensions }, () => {
    x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
    return x / 2_147_483_648 - 0.5;
  });
  const norm = Math.hypot(...v);
  return v.map((c) => Math.round((c / norm) * 1e6) / 1e6);
}

/** `base` nudged by `amount` towards `towards`. */
function near(base: number[], towards: number[], amount: number): number[] {
  return base.map((c, i) => c + amount * (towards[i]! - c));
}

describeEachEngine('memories', (h) => {
  let a = '';
  let b = '';
  let agentId = '';
  let conversationId = '';

  beforeAll(async () => {
    a = (await seedWorkspace(h().store, 'mem-a')).workspaceId;
    b = (await seedWorkspace(h().store, 'mem-b')).workspaceId;
    ({ agentId, conversationId } = await h().store.withWorkspace(a, async (w) => {
      const agent = await w.agents.create({ name: 'rememberer' });
      const conversation = await w.conversations.create({
        agentId: agent.id,
        userId: 'discord:42',
      });
      return { agentId: agent.id, conversationId: conversation.id };
    }));
  });

  it('ranks by cosine similarity and sees only what the scope allows', async () => {
    const results = await h().store.withWorkspace(a, async (w) => {
      const add = (content: string, embedding: number[], extra: Record<string, unknown> = {}) =>
        w.memories.add({
          agentId,
          scope: 'agent',
          kind: 'fact',
          content,
          embedding,
          embeddingModel: 'toy-3d',
          ...extra,
        });
      await add('x axis', [1, 0, 0]);
      await add('mostly x', [0.9, 0.1, 0]);
      await add('y axis', [0, 1, 0]);
      await add('user 42 likes x', [0.95, 0.05, 0], {
        scope: 'user',
        userId: 'discord:42',
        kind: 'preference',
      });
      await add('user 7 likes x', [0.95, 0.05, 0], { scope: 'user', userId: 'discord:7' });
      await add('this chat is about x', [0.97, 0.03, 0], { scope: 'conversation', conversationId });
      const search = (extra: Record<string, unknown> = {}) =>
        w.memories.search({
          agentId,
          embedding: [1, 0.02, 0],
          embeddingModel: 'toy-3d',
          limit: 10,
          ...extra,
        });
      return {
        agentOnly: await search(),
        withUser: await search({ userId: 'discord:42' }),
        withAll: await search({ userId: 'discord:42', conversationId }),
        onlyUser: await search({ userId: 'discord:42', scopes: ['user'] }),
        onlyPreferences: await search({ userId: 'discord:42', kinds: ['preference'] }),
        top2: await search({ limit: 2 }),
      };
    });
    const contents = (r: { hits: { memory: { content: string } }[] }) =>
      r.hits.map((hit) => hit.memory.content);
    // The oracle: cosine similarity computed here, over what each search may see.
    const all: [string, number[], string][] = [
      ['x axis', [1, 0, 0], 'agent'],
      ['mostly x', [0.9, 0.1, 0], 'agent'],
      ['y axis', [0, 1, 0], 'agent'],
      ['user 42 likes x', [0.95, 0.05, 0], 'user42'],
      ['user 7 likes x', [0.95, 0.05, 0], 'user7'],
      ['this chat is about x', [0.97, 0.03, 0], 'conversation'],
    ];
    const q = [1, 0.02, 0];
    const cosine = (v: number[]) =>
      v.reduce((s, c, i) => s + c * q[i]!, 0) / (Math.hypot(...v) * Math.hypot(...q));
    const expected = (visible: string[]) =>
      all
        .filter(([, , scope]) => visible.includes(scope))
        .sort((x, y) => cosine(y[1]) - cosine(x[1]))
        .map(([content]) => content);
    expect(results.agentOnly.method).toBe('vector');
    expect(contents(results.agentOnly)).toEqual(expected(['agent']));
    expect(results.agentOnly.hits[0]!.score).toBeCloseTo(1 / Math.hypot(1, 0.02), 5);
    expect(contents(results.withUser)).toEqual(expected(['agent', 'user42']));
    expect(contents(results.withAll)).toEqual(expected(['agent', 'user42', 'conversation']));
    expect(contents(results.onlyUser)).toEqual(['user 42 likes x']);
    expect(contents(results.onlyPreferences)).toEqual(['user 42 likes x']);
    expect(contents(results.top2)).toEqual(expected(['agent']).slice(0, 2));
  });

  it('fixes the embedding size per agent and explains how to change it', async () => {
    const error = await h()
      .store.withWorkspace(a, (w) =>
        w.memories.add({
          agentId,
          scope: 'agent',
          kind: 'fact',
          content: 'too big',
          embedding: [1, 0, 0, 0],
        }),
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmbeddingMismatchError);
    expect(error).toMatchObject({
      code: 'store.embedding_dimension_mismatch',
      status: 422,
      expected: { dimensions: 3, model: 'toy-3d' },
      received: { dimensions: 4 },
    });
    expect((error as Error).message).toMatch(/resetEmbeddings\(agentId, \{ dimensions: 4 \}\)/);
    await expect(
      h().store.withWorkspace(a, (w) => w.memories.search({ agentId, embedding: [1, 0] })),
    ).rejects.toMatchObject({
      code: 'store.embedding_dimension_mismatch',
    });
    await expect(
      h().store.withWorkspace(a, (w) =>
        w.memories.add({
          agentId,
          scope: 'agent',
          kind: 'fact',
          content: 'other model',
          embedding: [0, 0, 1],
          embeddingModel: 'other-3d',
        }),
      ),
    ).rejects.toMatchObject({ code: 'store.embedding_model_mismatch' });
  });

  it('switches embedding models by resetting, re-embedding, and searching text meanwhile', async () => {
    const { workspaceId } = { workspaceId: a };
    const outcome = await h().store.withWorkspace(workspaceId, async (w) => {
      const agent = await w.agents.create({ name: 'switcher' });
      for (const content of ['the launch is on friday', 'blue is the favourite colour']) {
        await w.memories.add({
          agentId: agent.id,
          scope: 'agent',
          kind: 'fact',
          content,
          embedding: [1, 0],
        });
      }
      const cleared = await w.memories.resetEmbeddings(agent.id, {
        dimensions: 3,
        model: 'new-3d',
      });
      const meanwhile = await w.memories.search({
        agentId: agent.id,
        embedding: [0, 0, 1],
        query: 'favourite colours',
      });
      const missing = await w.memories.listMissingEmbeddings(agent.id);
      for (const m of missing) {
        await w.memories.setEmbedding(m.id, m.content.includes('launch') ? [1, 0, 0] : [0, 0, 1], {
          model: 'new-3d',
        });
      }
      const after = await w.memories.search({
        agentId: agent.id,
        embedding: [0, 0.1, 1],
        embeddingModel: 'new-3d',
      });
      const oldSize = await w.memories
        .search({ agentId: agent.id, embedding: [1, 0] })
        .catch((e: unknown) => e);
      return {
        cleared,
        meanwhile,
        missing: missing.length,
        after,
        oldSize,
        agent: await w.agents.get(agent.id),
      };
    });
    expect(outcome.cleared).toBe(2);
    expect(outcome.meanwhile.method).toBe('fulltext');
    expect(outcome.meanwhile.hits.map((x) => x.memory.content)).toEqual([
      'blue is the favourite colour',
    ]);
    expect(outcome.missing).toBe(2);
    expect(outcome.after.hits.map((x) => x.memory.content)).toEqual([
      'blue is the favourite colour',
      'the launch is on friday',
    ]);
    expect(outcome.oldSize).toMatchObject({ code: 'store.embedding_dimension_mismatch' });
    expect(outcome.agent).toMatchObject({ embeddingDimensions: 3, embeddingModel: 'new-3d' });
  });

  it('says whether an agent has any memory, in its own workspace only', async () => {
    const fresh = await h().store.withWorkspace(a, (w) => w.agents.create({ name: 'blank' }));
    const has = (workspaceId: string, id: string) =>
      h().store.withWorkspace(workspaceId, (w) => w.memories.hasAny(id));
    expect(await has(a, fresh.id)).toBe(false);
    await h().store.withWorkspace(a, (w) =>
      w.memories.add({ agentId: fresh.id, scope: 'agent', kind: 'fact', content: 'first' }),
    );
    expect(await has(a, fresh.id)).toBe(true);
    expect(await has(b, fresh.id)).toBe(false);
  });

  it('falls back to full-text search: stemmed, any word, ranked, never another workspace', async () => {
    const ids = await h().store.withWorkspace(a, async (w) => {
      const agent = await w.agents.create({ name: 'no-embeddings' });
      for (const content of [
        'Alice prefers green tea in the morning',
        'The deploy key rotates monthly',
        'Bob drinks coffee',
      ]) {
        await w.memories.add({ agentId: agent.id, scope: 'agent', kind: 'fact', content });
      }
      return { agentId: agent.id };
    });
    await h().store.withWorkspace(b, async (w) => {
      const agent = await w.agents.create({ name: 'no-embeddings' });
      await w.memories.add({
        agentId: agent.id,
        scope: 'agent',
        kind: 'fact',
        content: 'Workspace B also drinks tea',
      });
    });
    const search = (query: string) =>
      h().store.withWorkspace(a, (w) =>
        w.memories.search({ agentId: ids.agentId, query, embedding: [1, 0, 0] }),
      );
    const teas = await search('what does everyone drink? teas or coffee');
    expect(teas.method).toBe('fulltext');
    expect(teas.hits.map((x) => x.memory.content).sort()).toEqual([
      'Alice prefers green tea in the morning',
      'Bob drinks coffee',
    ]);
    expect((await search('rotating keys')).hits.map((x) => x.memory.content)).toEqual([
      'The deploy key rotates monthly',
    ]);
    expect((await search('the and of')).hits).toEqual([]);
    expect((await search("'); drop table memories; --")).hits).toEqual([]);
  });

  it('clears a stale embedding when the content changes', async () => {
    const memory = await h().store.withWorkspace(a, async (w) => {
      const m = await w.memories.add({
        agentId,
        scope: 'agent',
        kind: 'fact',
        content: 'old text',
        embedding: [0, 0, 1],
      });
      return w.memories.update(m.id, { content: 'new text' });
    });
    expect(memory.embeddingDimensions).toBeNull();
    expect(
      await h().store.withWorkspace(a, (w) => w.memories.get(memory.id, { withEmbedding: true })),
    ).toMatchObject({ embedding: null });
  });

  it('matches the HNSW index for a common size and keeps full recall under RLS', async () => {
    const d = 384;
    const query = vec(1, d);
    const { mine, theirs } = await (async () => {
      const mineIds = await h().store.withWorkspace(a, async (w) => {
        const agent = await w.agents.create({ name: 'hnsw' });
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) {
          // Far from the query: B's rows are all nearer.
          const m = await w.memories.add({
            agentId: agent.id,
            scope: 'agent',
            kind: 'fact',
            content: `mine ${i}`,
            embedding: vec(100 + i, d),
          });
          ids.push(m.id);
        }
        return { agentId: agent.id, ids };
      });
      await h().store.withWorkspace(b, async (w) => {
        const agent = await w.agents.create({ name: 'hnsw' });
        for (let i = 0; i < 150; i++) {
          await w.memories.add({
            agentId: agent.id,
            scope: 'agent',
            kind: 'fact',
            content: `theirs ${i}`,
            embedding: near(vec(200 + i, d), query, 0.9),
          });
        }
      });
      return { mine: mineIds, theirs: b };
    })();
    expect(theirs).toBe(b);
    const result = await h().store.withWorkspace(a, (w) =>
      w.memories.search({ agentId: mine.agentId, embedding: query, limit: 5 }),
    );
    expect(result.hits.map((x) => x.memory.id).sort()).toEqual([...mine.ids].sort());

    const plan = await h().internals.scoped(a, async (tx) => {
      await tx.execute(sql`set local enable_seqscan = off`);
      await tx.execute(sql`set local enable_bitmapscan = off`);
      // Sorting by distance is what a plan without the HNSW index needs: forbid it, and only a
      // query whose cast and predicate match the partial index still has a plan without sort.
      await tx.execute(sql`set local enable_sort = off`);
      await tx.execute(sql`select set_config('hnsw.iterative_scan', 'strict_order', true)`);
      const filters = sql`m.workspace_id = ${a} and m.agent_id = ${mine.agentId}`;
      const rows = (await tx.execute(
        sql`explain ${vectorSearchQuery(filters, query, 5)}`,
      )) as unknown as { rows: { 'QUERY PLAN': string }[] };
      return rows.rows.map((r) => r['QUERY PLAN']).join('\n');
    });
    expect(plan).toContain('memories_embedding_384_hnsw');
  });
});
