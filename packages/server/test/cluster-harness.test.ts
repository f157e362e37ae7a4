import { type ParleyEvent, readParleyEvents } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, startCluster } from './support/cluster.ts';
import { client } from './support/harness.ts';
import { type SlowProvider, startSlowProvider } from './support/server-process.ts';

/*
 * The cluster harness itself (support/cluster.ts), through the shipped nginx configuration:
 * three server processes on one PostgreSQL database behind nginx, no sticky sessions, so
 * requests reach every instance; a run's stream passes through nginx unbuffered (its first
 * event arrives while the run still runs); an instance killed and restarted is served around
 * meanwhile and reached again afterwards.
 */

let cluster: Cluster;
let provider: SlowProvider;

beforeAll(async () => {
  provider = await startSlowProvider();
  cluster = await startCluster({ instances: 3 });
}, 180_000);

afterAll(async () => {
  await cluster?.close();
  await provider?.close();
});

/** Which instances answered `n` GET /readyz through nginx. */
async function instancesReached(n: number): Promise<Set<number>> {
  const reached = new Set<number>();
  for (let k = 0; k < n; k++) {
    const response = await fetch(`${cluster.url}/readyz`);
    expect(response.status).toBe(200);
    await response.body?.cancel();
    reached.add(cluster.instanceOf(response));
  }
  return reached;
}

describe('a cluster behind nginx', () => {
  it('spreads requests over every instance (no sticky sessions), each with its own instance id', async () => {
    expect(cluster.urls).toHaveLength(3);
    expect(new Set(cluster.instanceIds).size).toBe(3);
    expect([...(await instancesReached(9))].sort()).toEqual([0, 1, 2]);
    for (let i = 0; i < 3; i++) {
      const ready = await cluster.readiness(i);
      expect(ready).toMatchObject({ ok: true, database: 'postgres', bus: { kind: 'postgres' } });
    }
  });

  it('passes a run stream through unbuffered: its first event arrives while the run runs', async () => {
    const call = client(cluster.url, cluster.token);
    const agents = `/v1/workspaces/${cluster.workspaceId}/agents`;
    const created = await call('POST', agents, {
      definition: {
        name: 'slow',
        instructions: 'You are a test agent.',
        // 8 words 400 ms apart: a run of about three seconds whose whole stream fits in one of
        // nginx's proxy buffers, so a buffering proxy would deliver nothing before its end.
        model: { provider: 'openai-compatible', model: 'slow-8-400', baseURL: provider.baseURL },
        memory: { enabled: false, autoExtract: false },
      },
      deploy: true,
    });
    expect(created.status).toBe(201);
    const response = await call('POST', `${agents}/slow/runs`, { input: 'count' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const runId = response.headers.get('x-parley-run-id')!;
    const seen: ParleyEvent[] = [];
    let statusAtFirstText: string | undefined;
    for await (const event of readParleyEvents(response.body!)) {
      seen.push(event);
      if (event.type === 'text.delta' && statusAtFirstText === undefined) {
        // Asked of the instance that runs it, directly: nginx held nothing back if the run
        // is still going when its first words reached the client.
        const owner = cluster.instanceOf(response);
        const run = await client(cluster.urls[owner]!, cluster.token)('GET', `/v1/runs/${runId}`);
        statusAtFirstText = ((await run.json()) as { status: string }).status;
      }
    }
    expect(statusAtFirstText).toBe('running');
    expect(seen.at(-1)).toMatchObject({ type: 'run.finish' });
  });

  it('serves around a killed instance and reaches it again once restarted', async () => {
    await cluster.kill(1, 'SIGKILL');
    expect(cluster.alive(1)).toBe(false);
    // GETs that find instance 1 gone are retried on another one: none fails.
    const meanwhile = await instancesReached(6);
    expect(meanwhile.has(1)).toBe(false);
    await cluster.restart(1);
    expect(cluster.alive(1)).toBe(true);
    // nginx takes a failed instance out for fail_timeout (5 s), then tries it again.
    const deadline = Date.now() + 30_000;
    let reached = new Set<number>();
    while (!reached.has(1) && Date.now() < deadline) {
      reached = await instancesReached(3);
      if (!reached.has(1)) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(reached.has(1)).toBe(true);
  });
});
