import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { PGlite, types } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toStoreError } from '../src/db.ts';
import { SetupFailed, StoreError } from '../src/errors.ts';
import { PgliteThreadClient } from '../src/pglite-thread/client.ts';

/*
 * PGlite in a worker thread (src/pglite-thread): every answer and every error must look as
 * it did when PGlite ran on the main thread. One PGlite on this thread is the reference.
 */

let client: PgliteThreadClient;
let direct: PGlite;

beforeAll(async () => {
  [client, direct] = await Promise.all([
    PgliteThreadClient.open(undefined),
    PGlite.create({ extensions: { vector } }),
  ]);
  const setup = `create extension if not exists vector;
    create table items (id int primary key, name text unique, tags text[], body bytea,
                        at timestamptz, embedding vector(3));
    create table counter (n int not null);
    insert into counter values (0);`;
  await client.exec(setup);
  await direct.exec(setup);
});

afterAll(async () => {
  await client?.close();
  await direct?.close();
});

// Drizzle's parsers: every one keeps the text as it is.
const drizzleParsers = {
  [types.TIMESTAMP]: (v: string) => v,
  [types.TIMESTAMPTZ]: (v: string) => v,
  [types.INTERVAL]: (v: string) => v,
  [types.DATE]: (v: string) => v,
  1231: (v: string) => v,
  1115: (v: string) => v,
  1185: (v: string) => v,
  1187: (v: string) => v,
  1182: (v: string) => v,
};

/** Runs the same statement on both and returns both results. */
async function both(text: string, params?: unknown[], options?: Parameters<PGlite['query']>[2]) {
  return Promise.all([client.query(text, params, options), direct.query(text, params, options)]);
}

describe('answers', () => {
  it.each([
    ['json', 'select $1::jsonb as j, $2::json as k', [{ a: [1, 'x', null] }, '{"b":true}']],
    ['int8 and numeric', 'select 9007199254740993::int8 as big, 1.50::numeric as n, 2::int2 as s'],
    ['bytea', 'select $1::bytea as b', [Buffer.from([0, 1, 2, 255])]],
    ['arrays', 'select $1::text[] as t, array[1,2,3]::int8[] as i', [['a', 'b,c', '"q"']]],
    ['vector', "select '[1,2.5,3]'::vector(3) as v, $1::vector <-> '[0,0,0]' as d", ['[3,4,0]']],
    ['timestamptz', "select '2026-01-02T03:04:05.678Z'::timestamptz as at, now() - now() as i"],
    ['nulls and booleans', 'select null::text as x, true as t, $1::bool as f', [false]],
  ])('%s round-trip as on the main thread', async (_what, text, params?: unknown[]) => {
    for (const options of [undefined, { rowMode: 'array' as const, parsers: drizzleParsers }]) {
      const [viaWorker, onMain] = await both(text, params, options);
      expect(viaWorker).toEqual(onMain);
    }
  });

  it('keeps timestamps and dates as text under Drizzle parsers, as Date without them', async () => {
    const text =
      "select '2026-01-02 03:04:05+00'::timestamptz as at, '2026-01-02'::date as d, array['2026-01-02'::date] as ds";
    const raw = await client.query<Record<string, unknown>>(text, [], {
      parsers: drizzleParsers,
    });
    expect(raw.rows[0]).toEqual({
      at: '2026-01-02 03:04:05+00',
      d: '2026-01-02',
      ds: '{2026-01-02}',
    });
    const parsed = await client.query<{ at: unknown }>(text);
    expect(parsed.rows[0]?.at).toBeInstanceOf(Date);
  });

  it('writes and reads rows through Drizzle the same way', async () => {
    const db = drizzle(client as unknown as PGlite);
    const dbDirect = drizzle(direct);
    const insert = sql`insert into items (id, name, tags, body, at, embedding)
      values (1, 'one', ${'{x,y}'}, ${Buffer.from('hi')}, ${'2026-03-04T05:06:07Z'}, ${'[1,2,3]'})`;
    await db.execute(insert);
    await dbDirect.execute(insert);
    const select = sql`select * from items where id = ${1}`;
    const [viaWorker, onMain] = await Promise.all([db.execute(select), dbDirect.execute(select)]);
    expect(viaWorker).toEqual(onMain);
    expect(viaWorker.rows[0]).toMatchObject({ at: '2026-03-04 05:06:07+00', embedding: '[1,2,3]' });
  });

  it('runs several statements with exec()', async () => {
    const text = 'select 1 as a; select 2 as b; update counter set n = n';
    expect(await client.exec(text)).toEqual(await direct.exec(text));
  });

  it('runs with the embedded configuration (16 MB of shared buffers, not 128 MB)', async () => {
    const [viaWorker, onMain] = await both('show shared_buffers');
    expect(viaWorker.rows).toEqual([{ shared_buffers: '16MB' }]);
    expect(onMain.rows).toEqual([{ shared_buffers: '128MB' }]);
  });

  it('refuses options that cannot cross threads instead of ignoring them', async () => {
    await expect(
      client.query('select 1', [], { parsers: { [types.INT4]: (v: string) => Number(v) * 2 } }),
    ).rejects.toThrow(/not the identity/);
    await expect(
      client.query('select 1', [], { serializers: { [types.INT4]: String } }),
    ).rejects.toThrow(/cannot cross/);
    await expect(client.query('select $1', [() => 1])).rejects.toThrow(/could not be cloned/);
  });
});

describe('errors', () => {
  it('carries the database error with the same name, message and properties', async () => {
    await both("insert into items (id, name) values (20, 'twenty')");
    const text = "insert into items (id, name) values (21, 'twenty')";
    const [viaWorker, onMain] = await Promise.all([
      client.query(text).catch((e: unknown) => e),
      direct.query(text).catch((e: unknown) => e),
    ]);
    expect(viaWorker).toBeInstanceOf(Error);
    const { queryOptions: _a, ...fromWorker } = { ...(viaWorker as object) } as Record<
      string,
      unknown
    >;
    const { queryOptions: _b, ...fromMain } = { ...(onMain as object) } as Record<string, unknown>;
    expect(fromWorker).toEqual(fromMain);
    expect(fromWorker).toMatchObject({
      code: '23505',
      constraint: 'items_name_key',
      table: 'items',
      schema: 'public',
      detail: 'Key (name)=(twenty) already exists.',
      severity: 'ERROR',
    });
    expect((viaWorker as Error).message).toBe((onMain as Error).message);
    expect((viaWorker as Error).name).toBe((onMain as Error).name);
  });

  it("becomes the same StoreError through Drizzle and the store's toStoreError", async () => {
    const db = drizzle(client as unknown as PGlite);
    const error = await db
      .execute(sql`insert into items (id, name) values (${22}, ${'twenty'})`)
      .catch(toStoreError);
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({
      code: 'store.conflict',
      pgCode: '23505',
      details: { constraint: 'items_name_key', table: 'items' },
    });
  });
});

describe('transactions', () => {
  const count = async () =>
    (await client.query<{ n: number }>('select count(*)::int as n from items')).rows[0]?.n;

  it('commits when the callback resolves and rolls back when it throws', async () => {
    const before = await count();
    await client.transaction(async (tx) => {
      await tx.query("insert into items (id, name) values (10, 'ten')");
      await tx.exec("insert into items (id, name) values (11, 'eleven')");
    });
    expect(await count()).toBe(before! + 2);
    const failure = new Error('changed my mind');
    await expect(
      client.transaction(async (tx) => {
        await tx.query("insert into items (id, name) values (12, 'twelve')");
        expect(
          (await tx.query<{ n: number }>('select count(*)::int as n from items')).rows[0]?.n,
        ).toBe(before! + 3);
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await count()).toBe(before! + 2);
  });

  it('rolls back on tx.rollback() and refuses the closed transaction afterwards', async () => {
    const before = await count();
    await client.transaction(async (tx) => {
      await tx.query("insert into items (id, name) values (13, 'thirteen')");
      await tx.rollback();
      expect(tx.closed).toBe(true);
      await expect(tx.query('select 1')).rejects.toThrow('Transaction is closed');
    });
    expect(await count()).toBe(before);
  });

  it('reports a failed statement inside and leaves the connection usable', async () => {
    await expect(
      client.transaction(async (tx) => {
        await tx.query("insert into items (id, name) values (14, 'one')");
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect((await client.query('select 1 as ok')).rows).toEqual([{ ok: 1 }]);
  });

  it('sends a transaction’s statements without waiting for its begin, and runs them after its setup', async () => {
    // What crosses between the threads, in order (the worker is real; this only watches it).
    const seen: string[] = [];
    const post = client.worker.postMessage.bind(client.worker);
    const watchPosts = (request: { id: number; op: string }) => {
      seen.push(`sent ${request.op} ${request.id}`);
      post(request);
    };
    const watchAnswers = (response: { id: number }) => seen.push(`answered ${response.id}`);
    client.worker.postMessage = watchPosts as typeof client.worker.postMessage;
    client.worker.on('message', watchAnswers);
    try {
      const probe = await client.transaction(
        async (tx) =>
          (await tx.query<{ v: string }>("select current_setting('app.probe', true) as v")).rows[0]
            ?.v,
        "select set_config('app.probe', 'set by the setup', true)",
      );
      expect(probe).toBe('set by the setup');
    } finally {
      client.worker.postMessage = post;
      client.worker.off('message', watchAnswers);
    }
    const begin = Number(seen[0]!.split(' ')[2]);
    expect(seen[0]).toBe(`sent begin ${begin}`);
    expect(seen[1]).toBe(`sent query ${begin + 1}`);
    expect(seen.indexOf(`answered ${begin}`)).toBeGreaterThan(1);
  });

  it('reports a failed setup, not the statements sent behind it, and stays usable', async () => {
    const failed = await client
      .transaction(
        (tx) => tx.query('select 1'),
        "select set_config('role', 'no_such_role_here', true)",
      )
      .catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(SetupFailed);
    expect((failed as SetupFailed).cause).toMatchObject({ code: '22023' });
    expect((await client.query('select 2 as ok')).rows).toEqual([{ ok: 2 }]);
  });

  it('serializes 50 concurrent read-modify-write transactions and queries in between', async () => {
    await client.query('update counter set n = 0');
    const db = drizzle(client as unknown as PGlite);
    const increments = Array.from({ length: 50 }, (_, i) =>
      i % 2 === 0
        ? client.transaction(async (tx) => {
            const { rows } = await tx.query<{ n: number }>('select n from counter');
            await nextTurn(); // let every other caller send its requests meanwhile
            await tx.query('update counter set n = $1', [rows[0]!.n + 1]);
          })
        : db.transaction(async (tx) => {
            const { rows } = await tx.execute<{ n: number }>(sql`select n from counter`);
            await nextTurn();
            await tx.execute(sql`update counter set n = ${rows[0]!.n + 1}`);
          }),
    );
    const reads = Array.from({ length: 50 }, () =>
      client.query<{ n: number }>('select n from counter'),
    );
    await Promise.all([...increments, ...reads]);
    // A read never sees a transaction's uncommitted state: only whole numbers of increments.
    for (const read of await Promise.all(reads)) expect(read.rows[0]!.n).toBeLessThanOrEqual(50);
    expect((await client.query('select n from counter')).rows).toEqual([{ n: 50 }]);
  });
});

describe('a worker that dies', () => {
  it('fails pending and later calls with store.unreachable', async () => {
    const doomed = await PgliteThreadClient.open(undefined);
    const pending = [
      doomed.query('select pg_sleep(0.3)'),
      doomed.transaction(async (tx) => tx.query('select 1')),
    ];
    const settled = Promise.allSettled(pending);
    await doomed.worker.terminate();
    for (const outcome of await settled) {
      expect(outcome.status).toBe('rejected');
      expect((outcome as PromiseRejectedResult).reason).toMatchObject({
        name: 'StoreError',
        code: 'store.unreachable',
      });
    }
    await expect(doomed.query('select 1')).rejects.toMatchObject({ code: 'store.unreachable' });
    await expect(doomed.transaction(async () => 1)).rejects.toMatchObject({
      code: 'store.unreachable',
    });
    await doomed.close(); // nothing left to close, but no error either
  });

  it('after close(), refuses calls with store.closed', async () => {
    const closing = await PgliteThreadClient.open(undefined);
    await closing.close();
    await closing.close();
    await expect(closing.query('select 1')).rejects.toMatchObject({ code: 'store.closed' });
  });
});

describe('process lifetime', () => {
  it("never keeps a process alive while idle, and never cuts off a caller waiting for an answer (under the server's Node flags)", () => {
    const storeIndex = fileURLToPath(new URL('../src/index.ts', import.meta.url));
    const internal = fileURLToPath(new URL('../src/internal.ts', import.meta.url));
    // Plain Node (no Vite): the worker file must load with type stripping alone. The script
    // never closes the store; only a waiting query has anything keeping the process up.
    const script = `
      const { openStore } = await import(${JSON.stringify(storeIndex)});
      const { internalsOf } = await import(${JSON.stringify(internal)});
      const store = await openStore({ memory: true });
      await store.ping();
      const [row] = await internalsOf(store).adminQuery("select pg_sleep(0.3), 'answered' as said");
      console.log(row.said);
    `;
    const node = fileURLToPath(new URL('../../../node_modules/.bin/node', import.meta.url));
    // With the Node flags `npm start` gives the server (V8 flags no worker may be given).
    const { scripts } = JSON.parse(
      readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
    ) as { scripts: { start: string } };
    const serverFlags = scripts.start.split(' ').filter((word) => word.startsWith('--'));
    expect(serverFlags.length).toBeGreaterThan(0);
    const child = spawnSync(node, [...serverFlags, '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(child.stderr).toBe('');
    expect(child.stdout.trim()).toBe('answered');
    expect(child.signal).toBeNull();
    expect(child.status).toBe(0);
  });
});
