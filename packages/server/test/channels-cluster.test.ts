import { createTestDatabase, type TestDatabase } from '@parley/store/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { scriptedAgent, signUpOwner, startTestServer, type TestServer } from './support/harness.ts';
import { startTelegramStandIn, type TelegramStandIn } from './support/telegram-stand-in.ts';

/*
 * Two instances of a cluster (one PostgreSQL database, its bus): both open the agent's
 * Telegram channel, exactly one polls; when that one stops, the other takes the poll over.
 */

const TOKEN = '2001:cluster';
let database: TestDatabase;
let servers: TestServer[] = [];
let tg: TelegramStandIn;

async function until<T>(read: () => T | undefined | false, what: string, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = read();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const start = (id: string, keepDatabase: boolean, channelPrivateNetwork = true) =>
  startTestServer({
    engine: 'postgres',
    env: { PARLEY_MULTI_USER: '1', PARLEY_INSTANCE_ID: id },
    reuse: { database },
    keepDatabase,
    // The stand-in is on loopback, which multi-user channels refuse unless told.
    tuning: { channelLeaseMs: 600, channelEditIntervalMs: 40, channelPrivateNetwork },
  });

beforeAll(async () => {
  tg = await startTelegramStandIn();
  tg.addBot(TOKEN, 'cluster_bot');
  database = await createTestDatabase('channels');
  servers = [await start('first', true), await start('second', false)];
}, 60_000);

afterAll(async () => {
  // The second drops the database: it closes last.
  for (const server of servers) await server.close();
  await tg?.close();
});

let updateId = 1;
const say = (from: number, text: string) =>
  tg.push(TOKEN, {
    update_id: updateId++,
    message: {
      message_id: updateId,
      from: { id: from },
      chat: { id: from, type: 'private' },
      date: 0,
      text,
    },
  });

it('one instance polls; when it stops, the other takes the poll over', async () => {
  const [first, second] = servers as [TestServer, TestServer];
  const { owner, workspaceId } = await signUpOwner(first, 'owner@channels-cluster.test');
  expect(
    (await owner('PUT', `/v1/workspaces/${workspaceId}/secrets/TG`, { value: TOKEN })).status,
  ).toBeLessThan(300);
  const res = await owner('POST', `/v1/workspaces/${workspaceId}/agents`, {
    definition: scriptedAgent('both', undefined, {
      channels: [{ platform: 'telegram', tokenSecret: 'TG', mode: 'polling', apiRoot: tg.url }],
    }),
    deploy: true,
  });
  expect(res.status, await res.clone().text()).toBe(201);
  const statuses = (server: TestServer) => server.app.services.channels.statuses(workspaceId);
  // The deploy reached the second instance over the bus: both have the channel open.
  await until(() => statuses(first).length === 1 && statuses(second).length === 1, 'both open');
  const holder = await until(
    () => servers.find((s) => statuses(s)[0]?.listening && statuses(s)[0]?.state === 'connected'),
    'a listener',
  );
  const other = holder === first ? second : first;
  expect(statuses(other)[0]!.listening).toBe(false);

  await say(301, 'hello');
  await until(() => tg.messages.find((m) => m.chat_id === '301'), 'the answer');
  expect(tg.messages.filter((m) => m.chat_id === '301').map((m) => m.text)).toEqual([
    '(scripted) hello',
  ]);

  await holder.stopApp();
  await until(
    () => statuses(other)[0]?.listening && statuses(other)[0]?.state === 'connected',
    'the takeover',
  );
  await say(302, 'still there?');
  await until(() => tg.messages.find((m) => m.chat_id === '302'), 'the answer after the takeover');
  expect(tg.conflicts).toBe(0);

  // An instance that starts later opens the channel at once (no deploy needed): it stands by.
  // It runs as a multi-user server does by default: channels reach public addresses only.
  const third = await start('third', true, false);
  servers.unshift(third);
  await until(() => statuses(third).length === 1, 'the channel opened at start');
  expect(statuses(third)[0]!.listening).toBe(false);
  // When it takes the poll over, the loopback API root (a member could write any) is refused.
  const calls = tg.calls.length;
  await other.stopApp();
  await until(() => statuses(third)[0]?.state === 'error', 'the refusal');
  expect(statuses(third)[0]!.lastError).toContain('could not be reached');
  expect(tg.calls.length).toBe(calls);
}, 60_000);
