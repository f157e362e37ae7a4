import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../src/routes/index.ts';
import { client, scriptedAgent, startTestServer, type TestServer } from './support/harness.ts';

describe('operational routes', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { PARLEY_METRICS_TOKEN: 'metrics-token-0123456789' } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers health and readiness without auth', async () => {
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ ok: true });
    const ready = (await (await fetch(`${server.url}/readyz`)).json()) as {
      ok: boolean;
      database: string;
    };
    expect(ready).toMatchObject({ ok: true, database: 'pglite' });
  });

  it('publishes an OpenAPI 3.1 document with every route of the table', async () => {
    const doc = (await (await fetch(`${server.url}/v1/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { operationId?: string; requestBody?: unknown }>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    for (const route of ROUTES) {
      const path = route.url.replace(/:(\w+)/g, '{$1}');
      const operation = doc.paths[path]?.[route.method.toLowerCase()];
      expect(operation, `${route.method} ${route.url}`).toBeDefined();
      expect(operation?.operationId).toBe(route.operationId);
      if (route.body) expect(operation?.requestBody, route.operationId).toBeDefined();
    }
    const ids = ROUTES.map((r) => r.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('exposes Prometheus metrics: TTFT and chunk gaps by model, runs by outcome, HTTP latency', async () => {
    const call = client(server.url, server.token);
    await call('POST', `/v1/workspaces/${server.workspaceId}/agents`, {
      definition: scriptedAgent('metered', [[{ type: 'text', text: 'one two three' }]]),
      deploy: true,
    });
    const run = await call(
      'POST',
      `/v1/workspaces/${server.workspaceId}/agents/metered/runs`,
      { input: 'hi' },
      { accept: 'application/json' },
    );
    expect(run.status).toBe(200);
    const res = await fetch(`${server.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/parley_ttft_seconds_count\{provider="scripted",model="test"\} 1/);
    expect(text).toMatch(
      /parley_inter_chunk_seconds_count\{provider="scripted",model="test"\} [1-9]/,
    );
    expect(text).toMatch(
      /parley_runs_total\{outcome="finish",code="",provider="scripted",model="test"\} 1/,
    );
    expect(text).toMatch(
      /parley_tokens_total\{kind="output",provider="scripted",model="test"\} [1-9]/,
    );
    expect(text).toMatch(
      /parley_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\}/,
    );
    expect(text).toContain('parley_process_');
  });

  it('summarises usage and TTFT per model for the workspace', async () => {
    const call = client(server.url, server.token);
    const summary = (await (
      await call('GET', `/v1/workspaces/${server.workspaceId}/usage`)
    ).json()) as {
      runs: { total: number };
      ttft: { provider: string; count: number; p50: number }[];
    };
    expect(summary.runs.total).toBeGreaterThanOrEqual(1);
    expect(summary.ttft.find((t) => t.provider === 'scripted')?.count).toBeGreaterThanOrEqual(1);
  });

  it('serves a landing page when the dashboard is not built, and problem+json for unknown API routes', async () => {
    const home = await fetch(`${server.url}/`);
    expect(home.headers.get('content-type')).toMatch(/text\/html/);
    expect(await home.text()).toContain('Parley is running');
    const missing = await fetch(`${server.url}/v1/nope`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(await missing.json()).toMatchObject({ code: 'route.not_found' });
    expect(missing.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

describe('dashboard files', () => {
  let server: TestServer;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-dash-'));
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><div id="root">dashboard</div>');
    await writeFile(join(dir, 'assets', 'app-1234.js'), 'console.log(1)');
    server = await startTestServer({ env: { PARLEY_DASHBOARD_DIR: dir } });
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the built files with their own CSP, and index.html for app routes', async () => {
    const index = await fetch(`${server.url}/`);
    expect(await index.text()).toContain('dashboard');
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    const asset = await fetch(`${server.url}/assets/app-1234.js`);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    const deep = await fetch(`${server.url}/agents/abc/chat`);
    expect(deep.status).toBe(200);
    expect(await deep.text()).toContain('dashboard');
    const api = await fetch(`${server.url}/v1/nothing-here`);
    expect(api.status).toBe(404);
    expect(api.headers.get('content-type')).toMatch(/problem\+json/);
  });
});
