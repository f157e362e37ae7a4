import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_LABEL_LENGTH, MAX_LABEL_VALUES, OTHER_LABEL } from '../src/metrics/labels.ts';
import { client, scriptedAgent, startTestServer, type TestServer } from './support/harness.ts';

/*
 * Issue #30: model names became metrics labels unbounded; 150 agents with long distinct model
 * names grew /metrics from 13 KB to 1.28 MB. Label values are bounded in length and number.
 */

const AGENTS = 150;

describe('metrics label values are bounded', () => {
  let server: TestServer;
  let call: ReturnType<typeof client>;

  beforeAll(async () => {
    server = await startTestServer();
    call = client(server.url, server.token);
  });
  afterAll(async () => {
    await server?.close();
  });

  it(`keeps /metrics small after runs of ${AGENTS} agents with long distinct model names`, async () => {
    const ws = `/v1/workspaces/${server.workspaceId}`;
    for (let i = 0; i < AGENTS; i++) {
      const model = `model-${String(i).padStart(3, '0')}-${'x'.repeat(190)}`;
      const created = await call('POST', `${ws}/agents`, {
        definition: scriptedAgent(`m${i}`, undefined, { model: { provider: 'scripted', model } }),
        deploy: true,
      });
      expect(created.status, await created.clone().text()).toBe(201);
      const run = await call(
        'POST',
        `${ws}/agents/m${i}/runs`,
        { input: 'hi' },
        {
          accept: 'application/json',
        },
      );
      expect(await run.json()).toMatchObject({ outcome: 'run.finish' });
    }
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const models = new Set([...text.matchAll(/model="((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!));
    expect(models.size).toBeLessThanOrEqual(MAX_LABEL_VALUES + 1);
    expect(models.has(OTHER_LABEL)).toBe(true);
    for (const m of models) expect([...m].length).toBeLessThanOrEqual(MAX_LABEL_LENGTH);
    // Every run is still counted: the ones past the bound under `other`.
    const finished = [...text.matchAll(/^parley_runs_total\{[^}]*outcome="finish"[^}]*\} (\d+)/gm)]
      .map((m) => Number(m[1]))
      .reduce((a, b) => a + b, 0);
    expect(finished).toBe(AGENTS);
    // 1.36 MB before the bound, 110 KB with it.
    expect(text.length).toBeLessThan(150_000);
  }, 300_000);
});
