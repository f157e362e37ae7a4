import fc from 'fast-check';
import { beforeAll, expect, it } from 'vitest';
import { LIMITS, StoreError, type WorkspaceScope } from '../src/index.ts';
import { describeEachEngine, seedWorkspace } from './support/engines.ts';

/*
 * Agents and their versions, conversations and messages, and what bad input turns into:
 * always a StoreError with a stable code (never a driver error carrying query parameters).
 */

describeEachEngine('workspace data', (h) => {
  let workspaceId = '';
  let userId = '';
  const inWs = <T>(fn: (w: WorkspaceScope) => Promise<T>) =>
    h().store.withWorkspace(workspaceId, fn);

  beforeAll(async () => {
    ({
      workspaceId,
      user: { id: userId },
    } = await seedWorkspace(h().store, 'data'));
  });

  it('creates, renames, archives agents; names are unique per workspace and a conflict leaves the transaction usable', async () => {
    const result = await inWs(async (w) => {
      const agent = await w.agents.create({
        name: 'helper',
        description: 'Helps.',
        createdBy: userId,
      });
      const conflict = await w.agents.create({ name: 'helper' }).catch((e: unknown) => e);
      const renamed = await w.agents.update(agent.id, { name: 'helper-2' });
      const byName = await w.agents.getByName('helper-2');
      await w.agents.create({ name: 'old' }).then((a) => w.agents.archive(a.id));
      return {
        conflict,
        renamed,
        byName,
        active: await w.agents.list(),
        all: await w.agents.list({ includeArchived: true }),
      };
    });
    expect(result.conflict).toMatchObject({ code: 'store.conflict', status: 409 });
    expect(result.renamed).toMatchObject({ name: 'helper-2', description: 'Helps.' });
    expect(result.byName?.id).toBe(result.renamed.id);
    expect(result.active.map((a) => a.name)).toEqual(['helper-2']);
    expect(result.all.map((a) => a.name)).toEqual(['helper-2', 'old']);
  });

  it('records every deploy as a new version, with a hash that ignores key order', async () => {
    const versions = await inWs(async (w) => {
      const agent = await w.agents.create({ name: 'deployed' });
      const v1 = await w.agents.deploy(agent.id, {
        definition: { name: 'deployed', model: { provider: 'openai', model: 'm' } },
        note: 'first',
      });
      const v2 = await w.agents.deploy(agent.id, {
        definition: { model: { model: 'm', provider: 'openai' }, name: 'deployed' },
      });
      const v3 = await w.agents.deploy(agent.id, {
        definition: { name: 'deployed', model: { provider: 'anthropic', model: 'm' } },
      });
      return {
        agent: await w.agents.get(agent.id),
        v1,
        v2,
        v3,
        current: await w.agents.getVersion(agent.id),
        list: await w.agents.listVersions(agent.id),
      };
    });
    expect([versions.v1.version, versions.v2.version, versions.v3.version]).toEqual([1, 2, 3]);
    expect(versions.v1.definitionHash).toBe(versions.v2.definitionHash);
    expect(versions.v3.definitionHash).not.toBe(versions.v1.definitionHash);
    expect(versions.agent?.currentVersion).toBe(3);
    expect(versions.current?.id).toBe(versions.v3.id);
    expect(versions.list.map((v) => v.version)).toEqual([3, 2, 1]);
  });

  it('hands out version numbers one at a time to concurrent deploys', async () => {
    const agent = await inWs((w) => w.agents.create({ name: 'busy' }));
    const deployed = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        inWs((w) => w.agents.deploy(agent.id, { definition: { i } })),
      ),
    );
    expect(deployed.map((v) => v.version).sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('stores messages in order whatever the transport, keeping extra part fields', async () => {
    const { conversationId, runId } = await inWs(async (w) => {
      const agent = await w.agents.create({ name: 'talker' });
      const conversation = await w.conversations.create({
        agentId: agent.id,
        userId: 'telegram:5',
        title: 'Hi',
      });
      const run = await w.runs.create({ agentId: agent.id, conversationId: conversation.id });
      return { conversationId: conversation.id, runId: run.id };
    });
    const reducerParts = [
      {
        kind: 'reasoning',
        partId: 'r1',
        stepId: 's1',
        visibility: 'full',
        text: 'thinking',
        done: true,
        replay: { provider: 'anthropic', signature: 'sig' },
      },
      { kind: 'text', partId: 'p1', text: 'Sure — 2 + 2 = 4 ✓', done: true },
      {
        kind: 'tool_call',
        toolCallId: 'c1',
        name: 'calc',
        index: 0,
        argsText: '{"a":2}',
        args: { a: 2 },
        status: 'succeeded',
      },
    ];
    const stored = await inWs(async (w) => {
      await w.messages.append(conversationId, [
        { role: 'user', content: [{ kind: 'text', text: 'what is 2+2?' }] },
      ]);
      await w.messages.append(conversationId, [
        { role: 'assistant', content: reducerParts as never, runId },
        { role: 'tool', content: [{ kind: 'tool_result', toolCallId: 'c1', ok: true, output: 4 }] },
      ]);
      return {
        all: await w.messages.list(conversationId),
        last2: await w.messages.list(conversationId, { last: 2 }),
        after1: await w.messages.list(conversationId, { afterPosition: 1, limit: 1 }),
      };
    });
    expect(stored.all.map((m) => [m.position, m.role])).toEqual([
      [1, 'user'],
      [2, 'assistant'],
      [3, 'tool'],
    ]);
    expect(stored.all[1]!.content).toEqual(reducerParts);
    expect(stored.all[1]!.runId).toBe(runId);
    expect(stored.last2.map((m) => m.position)).toEqual([2, 3]);
    expect(stored.after1.map((m) => m.position)).toEqual([2]);
    const conversation = await inWs((w) => w.conversations.get(conversationId));
    expect(conversation?.messageCount).toBe(3);
  });

  it('keeps message positions gap-free with concurrent appenders', async () => {
    const conversationId = await inWs(async (w) => {
      const agent = await w.agents.create({ name: 'crowd' });
      return (await w.conversations.create({ agentId: agent.id })).id;
    });
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        inWs((w) =>
          w.messages.append(conversationId, [
            { role: 'user', content: [{ kind: 'text', text: `m${i}` }] },
            { role: 'assistant', content: [] },
          ]),
        ),
      ),
    );
    const all = await inWs((w) => w.messages.list(conversationId));
    expect(all.map((m) => m.position)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  });

  it('starts a burst of runs and appends their messages in bulk, in order, a conversation named twice included', async () => {
    const { agentId, existing } = await inWs(async (w) => {
      const agent = await w.agents.create({ name: 'burst' });
      const conversation = await w.conversations.create({ agentId: agent.id });
      await w.messages.append(conversation.id, [{ role: 'user', content: [] }]);
      return { agentId: agent.id, existing: conversation.id };
    });
    const fresh = [crypto.randomUUID(), crypto.randomUUID()];
    const runIds = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    const text = (t: string) => [{ kind: 'text' as const, text: t }];
    const { started, appended } = await inWs(async (w) => {
      const started = await w.runs.startMany([
        {
          conversation: { id: fresh[0], agentId, title: 'one' },
          run: { id: runIds[0], agentId, conversationId: fresh[0] },
        },
        { run: { id: runIds[1], agentId, conversationId: existing } },
        {
          conversation: { id: fresh[1], agentId },
          run: { id: runIds[2], agentId, conversationId: fresh[1] },
        },
      ]);
      const appended = await w.messages.appendMany([
        { conversationId: fresh[0]!, messages: [{ role: 'user', content: text('a1') }] },
        {
          conversationId: existing,
          messages: [
            { role: 'user', content: text('b2') },
            { role: 'assistant', content: text('b3') },
          ],
        },
        { conversationId: fresh[0]!, messages: [{ role: 'assistant', content: text('a2') }] },
        { conversationId: fresh[1]!, messages: [{ role: 'user', content: text('c1') }] },
      ]);
      return { started, appended };
    });
    expect(started.map((r) => r.id)).toEqual(runIds);
    expect(started.map((r) => r.conversationId)).toEqual([fresh[0], existing, fresh[1]]);
    expect(appended.map((list) => list.map((m) => [m.position, m.content[0]]))).toEqual([
      [[1, { kind: 'text', text: 'a1' }]],
      [
        [2, { kind: 'text', text: 'b2' }],
        [3, { kind: 'text', text: 'b3' }],
      ],
      [[2, { kind: 'text', text: 'a2' }]],
      [[1, { kind: 'text', text: 'c1' }]],
    ]);
    const read = await inWs(async (w) => ({
      first: await w.messages.list(fresh[0]!),
      counted: await w.conversations.get(existing),
      found: await w.conversations.getMany([fresh[1]!, existing, crypto.randomUUID()]),
    }));
    expect(read.first.map((m) => m.content[0])).toEqual([text('a1')[0], text('a2')[0]]);
    expect(read.counted?.messageCount).toBe(3);
    expect(read.found.map((c) => c.id).sort()).toEqual([fresh[1], existing].sort());
  });

  it('refuses a bulk call as a whole when one item is bad, leaving the transaction usable', async () => {
    const agentId = await inWs(async (w) => (await w.agents.create({ name: 'bulk-bad' })).id);
    const missing = crypto.randomUUID();
    const result = await inWs(async (w) => {
      const started = await w.runs
        .startMany([
          { conversation: { agentId }, run: { agentId } },
          { run: { agentId, conversationId: missing } }, // no such conversation
        ])
        .catch((e: unknown) => e);
      const appended = await w.messages
        .appendMany([{ conversationId: missing, messages: [{ role: 'user', content: [] }] }])
        .catch((e: unknown) => e);
      return { started, appended, runs: await w.runs.list({ agentId }) };
    });
    expect(result.started).toBeInstanceOf(StoreError);
    expect(result.appended).toMatchObject({ code: 'store.not_found' });
    expect(result.runs).toEqual([]);
  });

  it('lists runs and conversations newest first with filters', async () => {
    const ids = await inWs(async (w) => {
      const agent = await w.agents.create({ name: 'lister' });
      const other = await w.agents.create({ name: 'lister-2' });
      const c1 = await w.conversations.create({ agentId: agent.id, userId: 'u1' });
      await w.conversations.create({ agentId: other.id, userId: 'u2' });
      const r1 = await w.runs.create({
        agentId: agent.id,
        conversationId: c1.id,
        provider: 'openai',
        model: 'x',
      });
      await w.runs.create({ agentId: other.id });
      return { agent: agent.id, c1: c1.id, r1: r1.id };
    });
    const lists = await inWs(async (w) => ({
      runs: await w.runs.list({ agentId: ids.agent }),
      byConversation: await w.runs.list({ conversationId: ids.c1 }),
      conversations: await w.conversations.list({ userId: 'u1' }),
    }));
    expect(lists.runs.map((r) => r.id)).toEqual([ids.r1]);
    expect(lists.byConversation.map((r) => r.id)).toEqual([ids.r1]);
    expect(lists.conversations.map((c) => c.id)).toEqual([ids.c1]);
  });

  it('records audit entries with the request facts of the scope', async () => {
    await h().store.withWorkspace(
      workspaceId,
      (w) =>
        w.audit.record({
          action: 'run.cancel',
          targetType: 'run',
          targetId: 'r-1',
          metadata: { reason: 'user' },
        }),
      {
        actor: { type: 'user', id: userId },
        ip: '2001:db8::1',
        userAgent: 'dashboard',
        requestId: 'req-1',
      },
    );
    const [entry] = await inWs((w) => w.audit.list({ action: 'run.cancel' }));
    expect(entry).toMatchObject({
      actorType: 'user',
      actorId: userId,
      ip: '2001:db8::1',
      userAgent: 'dashboard',
      requestId: 'req-1',
      outcome: 'ok',
    });
    await expect(inWs((w) => w.audit.record({ action: 'NotAnAction' }))).rejects.toMatchObject({
      code: 'store.invalid_input',
    });
  });

  it('turns bad input into typed errors that name the field', async () => {
    const agent = await inWs((w) => w.agents.create({ name: 'validated' }));
    const cases: [string, (w: WorkspaceScope) => Promise<unknown>, string][] = [
      ['invalid uuid', (w) => w.agents.get('12345'), ''],
      [
        'oversized description',
        (w) => w.agents.create({ name: 'big', description: 'x'.repeat(LIMITS.description + 1) }),
        'description',
      ],
      ['NUL in a name', (w) => w.agents.create({ name: 'a\u0000b' }), 'name'],
      ['empty name', (w) => w.agents.create({ name: '' }), 'name'],
      [
        'oversized memory',
        (w) =>
          w.memories.add({
            agentId: agent.id,
            scope: 'agent',
            kind: 'fact',
            content: 'x'.repeat(LIMITS.memoryContent + 1),
          }),
        'content',
      ],
      [
        'user scope without user',
        (w) => w.memories.add({ agentId: agent.id, scope: 'user', kind: 'fact', content: 'x' }),
        'userId',
      ],
      [
        'NaN in an embedding',
        (w) =>
          w.memories.add({
            agentId: agent.id,
            scope: 'agent',
            kind: 'fact',
            content: 'x',
            embedding: [1, Number.NaN],
          }),
        'embedding.1',
      ],
      [
        'bad memory kind',
        (w) =>
          w.memories.add({ agentId: agent.id, scope: 'agent', kind: 'Not A Kind', content: 'x' }),
        'kind',
      ],
      ['oversized secret', (w) => w.secrets.put('BIG', 'x'.repeat(LIMITS.secretValue + 1)), ''],
      ['bad secret name', (w) => w.secrets.put('has space', 'value'), ''],
      [
        'unknown message part',
        (w) =>
          w.conversations
            .create({ agentId: agent.id })
            .then((c) =>
              w.messages.append(c.id, [{ role: 'user', content: [{ kind: 'video' } as never] }]),
            ),
        '0.content.0.kind',
      ],
      [
        'huge metadata',
        (w) =>
          w.conversations.create({ agentId: agent.id, metadata: { blob: 'x'.repeat(70_000) } }),
        'metadata',
      ],
      ['limit out of range', (w) => w.agents.list({ limit: 0 }), ''],
    ];
    for (const [label, call, path] of cases) {
      const error = await inWs(call).catch((e: unknown) => e);
      expect(error, label).toBeInstanceOf(StoreError);
      expect(error, label).toMatchObject({ code: 'store.invalid_input', status: 400 });
      if (path)
        expect(
          (error as StoreError).issues?.map((i) => i.path),
          label,
        ).toContain(path);
    }
    await expect(h().store.withWorkspace('not-a-uuid', async () => 1)).rejects.toMatchObject({
      code: 'store.invalid_input',
    });
    await expect(
      h().store.withWorkspace(workspaceId, async () => 1, { ip: 'not an ip' }),
    ).rejects.toMatchObject({ code: 'store.invalid_input' });
  });

  it('never lets arbitrary text or JSON reach the driver as an untyped error', async () => {
    const agentId = (await inWs((w) => w.agents.create({ name: 'fuzzed' }))).id;
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', maxLength: 40 }),
        fc.dictionary(fc.string({ unit: 'binary', maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), {
          maxKeys: 3,
        }),
        async (text, metadata) => {
          const outcome = await inWs(async (w) => {
            const results: unknown[] = [];
            for (const call of [
              () => w.agents.update(agentId, { description: text }),
              () =>
                w.memories.add({ agentId, scope: 'agent', kind: 'fact', content: text, metadata }),
              () => w.conversations.create({ agentId, title: text, metadata }),
              () => w.agents.getByName(text),
            ]) {
              results.push(
                await call().then(
                  () => 'ok',
                  (e: unknown) => e,
                ),
              );
            }
            return results;
          });
          for (const result of outcome) {
            if (result === 'ok') continue;
            expect(result).toBeInstanceOf(StoreError);
            expect((result as StoreError).code).toBe('store.invalid_input');
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('refuses a workspace handle used after its transaction', async () => {
    let leaked: WorkspaceScope | undefined;
    await inWs(async (w) => {
      leaked = w;
    });
    await expect(leaked!.agents.list()).rejects.toMatchObject({ code: 'store.scope_closed' });
  });
});
