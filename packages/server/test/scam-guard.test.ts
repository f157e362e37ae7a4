import { type ParleyEvent, readParleyEvents, reduceEvents, textOf } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  client,
  ENGINES,
  scriptedAgent,
  startTestServer,
  type TestServer,
} from './support/harness.ts';

/*
 * The scam-link guard through a real server run: an agent that lists the plugin gets the
 * inbound guard with its plugin config. The scripted model echoes what it is given, so the
 * answer shows exactly what the model saw: the official link in place of the lookalike.
 */

const MIGRATION = 'https://parley.dev/migrate';
const guard = {
  name: '@parley/plugin-scam-guard',
  version: '^0.1.0',
  config: {
    canonicalDomains: ['parley.dev'],
    brandTokens: ['parley'],
    blocklist: ['drainer-kit.example'],
    canonicalLinks: [{ label: 'migration', url: MIGRATION }],
  },
};

describe.each(ENGINES)('scam-link guard in runs [%s]', (engine) => {
  let server: TestServer;
  let call: ReturnType<typeof client>;
  let ws: string;

  const run = async (agent: string, input: string) => {
    const res = await call('POST', `/v1/workspaces/${ws}/agents/${agent}/runs`, { input });
    expect(res.status, await res.clone().text()).toBe(200);
    const events: ParleyEvent[] = [];
    for await (const event of readParleyEvents(res.body!)) events.push(event);
    return events;
  };
  const verdicts = async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const count = (verdict: string) =>
      Number(
        new RegExp(`^parley_scam_guard_verdicts_total\\{verdict="${verdict}"\\} (\\d+)`, 'm').exec(
          text,
        )?.[1] ?? 0,
      );
    return { allow: count('allow'), warn: count('warn'), block: count('block') };
  };
  const signals = async () =>
    (await (
      await call('GET', `/v1/workspaces/${ws}/security-signals?kind=scam.link_blocked`)
    ).json()) as { kind: string; severity: string; details: Record<string, unknown> }[];

  beforeAll(async () => {
    server = await startTestServer({ engine, tuning: { runLingerMs: 0 } });
    call = client(server.url, server.token);
    ws = server.workspaceId;
    for (const [name, script] of [
      ['guarded', undefined],
      [
        'checker',
        [
          [
            {
              type: 'tool_call',
              name: 'check_links',
              args: { text: 'see <a href="https://drainer-kit.example/x">parley.dev</a>' },
              id: 'call_check',
            },
          ],
          [{ type: 'text', text: 'Checked.' }],
        ],
      ],
    ] as const) {
      const res = await call('POST', `/v1/workspaces/${ws}/agents`, {
        definition: scriptedAgent(name, script as unknown[] | undefined, { plugins: [guard] }),
        deploy: true,
      });
      expect(res.status, await res.clone().text()).toBe(201);
    }
  });
  afterAll(async () => {
    await server?.close();
  });

  it('records a signal, counts the verdict and answers with the canonical link for a lookalike', async () => {
    const before = await verdicts();
    const signalsBefore = (await signals()).length;
    const input =
      'Is https://parley-migration.com/claim the new portal? They told me to migrate your wallet today.';
    const events = await run('guarded', input);
    expect(events.at(-1)?.type).toBe('run.finish');
    const answer = textOf(reduceEvents(events));
    expect(answer).toContain(MIGRATION);
    expect(answer).not.toContain('parley-migration.com');

    const after = await verdicts();
    expect(after.block).toBe(before.block + 1);
    expect(after.allow).toBe(before.allow);

    const stored = await signals();
    expect(stored.length).toBe(signalsBefore + 1);
    const signal = stored[0]!;
    expect(signal).toMatchObject({ kind: 'scam.link_blocked', severity: 'warning' });
    expect(signal.details).toMatchObject({
      verdict: 'block',
      links: [{ domain: 'parley-migration.com', verdict: 'warn' }],
    });
    expect(signal.details.reasons).toEqual(
      expect.arrayContaining(['lookalike.brand_embedded', 'lure.with_suspicious_link']),
    );

    // The conversation keeps what the user wrote; only the model saw the placeholder.
    const start = events[0] as Extract<ParleyEvent, { type: 'run.start' }>;
    const messages = (await (
      await call('GET', `/v1/workspaces/${ws}/conversations/${start.conversationId}/messages`)
    ).json()) as { role: string; content: unknown }[];
    expect(JSON.stringify(messages[0]!.content)).toContain('parley-migration.com');
  });

  it('lets an official link through unchanged, counted as allow and without a signal', async () => {
    const before = await verdicts();
    const signalsBefore = (await signals()).length;
    const events = await run('guarded', `The guide is at ${MIGRATION} right?`);
    expect(textOf(reduceEvents(events))).toBe(`(scripted) The guide is at ${MIGRATION} right?`);
    expect((await verdicts()).allow).toBe(before.allow + 1);
    expect((await signals()).length).toBe(signalsBefore);
  });

  it('refuses a run of an agent whose guard config is invalid, naming the field', async () => {
    const bad = { ...guard, config: { ...guard.config, brandTokens: ['pa'] } };
    const created = await call('POST', `/v1/workspaces/${ws}/agents`, {
      definition: scriptedAgent('misconfigured', undefined, { plugins: [bad] }),
      deploy: true,
    });
    expect(created.status).toBe(201);
    const res = await call('POST', `/v1/workspaces/${ws}/agents/misconfigured/runs`, {
      input: 'hi',
    });
    expect(res.status).toBe(422);
    const problem = (await res.json()) as { code: string };
    expect(problem.code).toBe('agent.invalid_definition');
    expect(JSON.stringify(problem)).toContain('plugins.config.brandTokens');
  });

  it("gives agents the check_links tool, configured from the agent's plugin config", async () => {
    const events = await run('checker', 'check this for me');
    const result = events.find((e) => e.type === 'tool.result');
    expect(result).toMatchObject({ ok: true, output: { verdict: 'block' } });
    const output = (result as { output: { links: { reasons: string[] }[] } }).output;
    expect(output.links[0]!.reasons).toContain('blocklist.workspace');
  });
});
