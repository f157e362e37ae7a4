import {
  checkConformance,
  type ParleyEvent,
  readParleyEvents,
  reduceEvents,
  textOf,
} from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, scriptedAgent, startTestServer, type TestServer } from './support/harness.ts';

/*
 * The reference deployment serves several people at once: two users, each in their own
 * workspace, run agents concurrently (same agent name on both sides) and nothing crosses:
 * not events, not runs, not conversations, not ids guessed from the other side.
 */

interface Person {
  name: string;
  cookie: string;
  workspaceId: string;
}

describe.each(ENGINES)('two users, two workspaces, concurrent runs [%s]', (engine) => {
  let server: TestServer;
  const people: Person[] = [];

  const as =
    (p: Person) =>
    (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
      fetch(`${server.url}${path}`, {
        method,
        headers: {
          cookie: p.cookie,
          origin: server.url,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });

  beforeAll(async () => {
    server = await startTestServer({ engine, env: { PARLEY_MULTI_USER: '1' } });
    for (const name of ['ada', 'grace']) {
      const res = await fetch(`${server.url}/v1/auth/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: server.url },
        body: JSON.stringify({
          email: `${name}@example.com`,
          password: `${name}-long-password-123`,
        }),
      });
      expect(res.status).toBe(201);
      const session = (await res.json()) as { workspaces: { id: string }[] };
      const person = {
        name,
        cookie: res.headers.get('set-cookie')!.split(';')[0]!,
        workspaceId: session.workspaces[0]!.id,
      };
      people.push(person);
      // The same agent name in both workspaces, each saying whose it is.
      const agent = await as(person)('POST', `/v1/workspaces/${person.workspaceId}/agents`, {
        definition: scriptedAgent('assistant', [
          [
            { type: 'text', text: `I belong to ${name}. ` },
            { type: 'delay', ms: 10 },
            { type: 'text', text: `Only ${name} sees this.` },
          ],
        ]),
        deploy: true,
      });
      expect(agent.status).toBe(201);
    }
  });
  afterAll(async () => {
    await server?.close();
  });

  it('runs 8 streams at once (4 each): every stream carries only its owner’s run and words', async () => {
    const streams = people.flatMap((person) =>
      Array.from({ length: 4 }, async (_, i) => {
        const res = await as(person)(
          'POST',
          `/v1/workspaces/${person.workspaceId}/agents/assistant/runs`,
          {
            input: `${person.name} asks #${i}`,
          },
        );
        expect(res.status).toBe(200);
        const events: ParleyEvent[] = [];
        for await (const e of readParleyEvents(res.body!)) events.push(e);
        return { person, runId: res.headers.get('x-parley-run-id')!, events };
      }),
    );
    const results = await Promise.all(streams);
    for (const { person, runId, events } of results) {
      expect(checkConformance(events)).toEqual([]);
      expect(new Set(events.map((e) => e.runId))).toEqual(new Set([runId]));
      const text = textOf(reduceEvents(events));
      expect(text).toBe(`I belong to ${person.name}. Only ${person.name} sees this.`);
      const other = people.find((p) => p !== person)!;
      // As a word: a random id may hold the letters (an agent id `76adadbf…` contains "ada").
      expect(JSON.stringify(events)).not.toMatch(new RegExp(`\\b${other.name}\\b`));
    }
    const [ada, grace] = people as [Person, Person];
    const adaRuns = results.filter((r) => r.person === ada).map((r) => r.runId);
    const graceRuns = results.filter((r) => r.person === grace).map((r) => r.runId);
    // Lists show only one's own.
    const listed = (await (
      await as(ada)('GET', `/v1/workspaces/${ada.workspaceId}/runs`)
    ).json()) as { id: string }[];
    expect(listed.map((r) => r.id).sort()).toEqual([...adaRuns].sort());
    const conversations = (await (
      await as(ada)('GET', `/v1/workspaces/${ada.workspaceId}/conversations`)
    ).json()) as { id: string }[];
    expect(conversations).toHaveLength(4);
    // The other side's ids answer exactly like ids that do not exist.
    const nowhere = await as(ada)('GET', `/v1/runs/${crypto.randomUUID()}`);
    for (const runId of graceRuns) {
      const crossed = await as(ada)('GET', `/v1/runs/${runId}`);
      expect(crossed.status).toBe(404);
      const [a, b] = (await Promise.all([crossed.json(), nowhere.clone().json()])) as {
        code: string;
        detail: string;
      }[];
      expect({ code: a!.code, detail: a!.detail }).toEqual({ code: b!.code, detail: b!.detail });
      expect((await as(ada)('GET', `/v1/runs/${runId}/events`)).status).toBe(404);
      expect((await as(ada)('POST', `/v1/runs/${runId}/cancel`)).status).toBe(404);
    }
    const foreign = await as(ada)('GET', `/v1/workspaces/${grace.workspaceId}/agents`);
    expect(foreign.status).toBe(404);
    const graceConversation = conversations[0]!.id;
    const peek = await as(grace)(
      'GET',
      `/v1/workspaces/${grace.workspaceId}/conversations/${graceConversation}/messages`,
    );
    expect(peek.status).toBe(404);
  });
});
