import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPublic } from '../src/runs/public-fetch.ts';
import {
  client,
  scriptedAgent,
  signUpOwner,
  startTestServer,
  type TestServer,
} from './support/harness.ts';

/*
 * Community plugins run sandboxed by the server (PARLEY_PLUGINS_DIR), MCP servers as an
 * agent's tools, and an agent as an MCP server, through real runs on a real server.
 */

const sandboxFixture = (name: string) =>
  fileURLToPath(new URL(`../../sandbox/test/fixtures/${name}`, import.meta.url));
const notesServer = fileURLToPath(
  new URL('../../mcp/test/fixtures/notes-server.ts', import.meta.url),
);

/** PARLEY_PLUGINS_DIR as an operator lays it out: one directory per package. */
const pluginsDir = mkdtempSync(join(tmpdir(), 'parley-plugins-'));
mkdirSync(join(pluginsDir, '@fixtures'));
symlinkSync(sandboxFixture('probe-plugin'), join(pluginsDir, '@fixtures', 'plugin-probe'));
symlinkSync(sandboxFixture('flaky-plugin'), join(pluginsDir, '@fixtures', 'plugin-flaky'));
const outsideFile = join(mkdtempSync(join(tmpdir(), 'parley-outside-')), 'private.txt');
writeFileSync(outsideFile, 'not for plugins');

let weather: Server;
let weatherUrl = '';
let seenAuthorization: string | undefined;
let server: TestServer;
let call: ReturnType<typeof client>;

beforeAll(async () => {
  weather = createServer((req, res) => {
    seenAuthorization = req.headers.authorization;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ city: 'Lisbon', temperatureC: 21 }));
  });
  await new Promise<void>((resolve) => weather.listen(0, '127.0.0.1', resolve));
  weatherUrl = `http://127.0.0.1:${(weather.address() as AddressInfo).port}/now`;
  process.env.PARLEY_PROBE_CANARY = 'a-value-only-the-server-has';
  server = await startTestServer({ env: { PARLEY_PLUGINS_DIR: pluginsDir } });
  call = client(server.url, server.token);
  const secret = await call('PUT', `/v1/workspaces/${server.workspaceId}/secrets/WEATHER_KEY`, {
    value: 'wk-secret-123',
  });
  expect(secret.status, await secret.clone().text()).toBeLessThan(300);
});
afterAll(async () => {
  await server?.close();
  weather.close();
  delete process.env.PARLEY_PROBE_CANARY;
});

interface Part {
  kind: string;
  name?: string;
  toolCallId?: string;
  invalidReason?: string;
  result?: { ok: boolean; output?: unknown; error?: { message?: string } | string };
}

async function deployAndRun(definition: { name: string }, input = 'go') {
  const ws = server.workspaceId;
  const deployed = await call('POST', `/v1/workspaces/${ws}/agents`, { definition, deploy: true });
  expect(deployed.status, await deployed.clone().text()).toBe(201);
  const run = await call(
    'POST',
    `/v1/workspaces/${ws}/agents/${definition.name}/runs`,
    { input },
    { accept: 'application/json' },
  );
  const body = (await run.json()) as {
    run: { id: string; status: string };
    text: string;
    outcome: string;
    parts: Part[];
  };
  return { status: run.status, body };
}

/** Runs an agent deployed earlier again; answers the JSON run result. */
async function runAgain(name: string) {
  const run = await call(
    'POST',
    `/v1/workspaces/${server.workspaceId}/agents/${name}/runs`,
    { input: 'again' },
    { accept: 'application/json' },
  );
  expect(run.status).toBe(200);
  return (await run.json()) as { parts: Part[]; outcome: string };
}

const toolResult = (parts: Part[], id: string) =>
  parts.find((p) => p.kind === 'tool_call' && p.toolCallId === id)?.result;
const errorText = (result: Part['result']) =>
  typeof result?.error === 'string' ? result.error : (result?.error?.message ?? '');

interface AuditRow {
  action: string;
  outcome: string;
  targetId: string | null;
  runId: string | null;
  metadata: { resource?: string; kind?: string };
}
const auditOf = async (runId: string) => {
  const res = await call('GET', `/v1/workspaces/${server.workspaceId}/audit?limit=200`);
  return ((await res.json()) as AuditRow[]).filter((a) => a.runId === runId);
};

describe('a community plugin installed on the server', () => {
  it('runs sandboxed: its declared secret and host work, undeclared env, file and host are denied and audited', async () => {
    const { status, body } = await deployAndRun(
      scriptedAgent(
        'prober',
        [
          [{ type: 'tool_call', name: 'weather', id: 'w1', args: { url: weatherUrl } }],
          [
            {
              type: 'tool_call',
              name: 'probe',
              id: 'p1',
              args: {
                env: 'PARLEY_PROBE_CANARY',
                file: outsideFile,
                url: 'http://undeclared.example.test/steal',
              },
            },
          ],
          [{ type: 'text', text: 'Probed.' }],
        ],
        { plugins: [{ name: '@fixtures/plugin-probe', version: '^1.0.0' }] },
      ),
    );
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.outcome).toBe('run.finish');
    expect(toolResult(body.parts, 'w1')).toMatchObject({
      ok: true,
      output: { status: 200, body: { city: 'Lisbon', temperatureC: 21 } },
    });
    expect(seenAuthorization).toBe('Bearer wk-secret-123');
    expect(toolResult(body.parts, 'p1')).toMatchObject({
      ok: true,
      output: {
        env: null,
        file: { ok: false, error: 'ERR_ACCESS_DENIED' },
        fetch: { ok: false },
        socket: { ok: false, error: 'ERR_ACCESS_DENIED' },
      },
    });

    const runId = body.run.id;
    await expect
      .poll(async () => (await auditOf(runId)).map((a) => `${a.action} ${a.metadata.resource}`))
      .toEqual(
        expect.arrayContaining([
          'plugin.secret_read WEATHER_KEY',
          `plugin.network_request ${new URL(weatherUrl).host}`,
          'plugin.denied PARLEY_PROBE_CANARY',
          `plugin.denied FileSystemRead:${outsideFile}`,
          'plugin.denied undeclared.example.test:80',
          'plugin.denied node:net',
        ]),
      );
    for (const row of await auditOf(runId))
      if (row.action.startsWith('plugin.')) expect(row.targetId).toBe('@fixtures/plugin-probe');
  });

  it('survives a crash and a hang: those calls fail with typed errors, the process restarts, the run finishes', async () => {
    const { status, body } = await deployAndRun(
      scriptedAgent(
        'flaky',
        [
          [{ type: 'tool_call', name: 'crash', id: 'c1', args: {} }],
          [{ type: 'tool_call', name: 'ok', id: 'o1', args: {} }],
          [{ type: 'tool_call', name: 'hang', id: 'h1', args: {} }],
          [{ type: 'tool_call', name: 'ok', id: 'o2', args: {} }],
          [{ type: 'text', text: 'Survived.' }],
        ],
        { plugins: [{ name: '@fixtures/plugin-flaky', version: '^1.0.0' }], toolTimeoutMs: 1_500 },
      ),
    );
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.outcome).toBe('run.finish');
    expect(body.text).toBe('Survived.');
    const crash = toolResult(body.parts, 'c1');
    expect(crash?.ok).toBe(false);
    expect(errorText(crash)).toMatch(/exited \(code 3\) during a call of crash; it was restarted/);
    const hang = toolResult(body.parts, 'h1');
    expect(hang?.ok).toBe(false);
    expect(errorText(hang)).toMatch(/tool hang did not finish within 1500 ms/);
    const first = toolResult(body.parts, 'o1')?.output as { instance: string };
    const second = toolResult(body.parts, 'o2')?.output as { instance: string };
    expect(first.instance).toEqual(expect.any(String));
    expect(second.instance).not.toBe(first.instance);
  });
});

describe('the egress of sandboxed plugins on a multi-user server', () => {
  it('connects to public addresses only', async () => {
    const port = (weather.address() as AddressInfo).port;
    for (const host of ['127.0.0.1', 'localhost']) {
      const socket = connectPublic(host, port);
      const error = await new Promise<Error & { code?: string }>((resolve, reject) => {
        socket.once('error', resolve);
        socket.once('connect', () => reject(new Error(`${host} was reached`)));
      });
      expect(error.code).toBe('plugin.non_public_address');
    }
  });
});

describe('MCP', () => {
  it('gives an agent the allow-listed tools of a stdio MCP server, in the run like any tool', async () => {
    const { status, body } = await deployAndRun(
      scriptedAgent(
        'note-taker',
        [
          [{ type: 'tool_call', name: 'notes_add_note', id: 'n1', args: { text: 'from a run' } }],
          [{ type: 'tool_call', name: 'notes_read_env', id: 'n2', args: {} }],
          [{ type: 'text', text: 'Noted.' }],
        ],
        {
          mcp: [
            {
              name: 'notes',
              transport: { stdio: { command: process.execPath, args: [notesServer, 'stdio'] } },
              allowTools: ['add_note'],
            },
          ],
        },
      ),
    );
    expect(status, JSON.stringify(body)).toBe(200);
    expect(toolResult(body.parts, 'n1')).toMatchObject({
      ok: true,
      output: 'saved note 1: from a run',
    });
    // Not on the allow-list: the model never got it, the call is refused as an unknown tool.
    const refused = body.parts.find((p) => p.toolCallId === 'n2');
    expect(refused?.invalidReason).toMatch(
      /unknown tool notes_read_env; available: notes_add_note/,
    );
    expect(body.outcome).toBe('run.finish');

    // The MCP server's process is kept for the workspace's next run, not started per run…
    const again = await runAgain('note-taker');
    expect(toolResult(again.parts, 'n1')).toMatchObject({
      ok: true,
      output: 'saved note 2: from a run',
    });
    // …and started anew when the workspace's secrets change (they may be in its environment).
    const put = await call('PUT', `/v1/workspaces/${server.workspaceId}/secrets/NOTES_TOKEN`, {
      value: 'rotated-1234',
    });
    expect(put.status).toBeLessThan(300);
    const fresh = await runAgain('note-taker');
    expect(toolResult(fresh.parts, 'n1')).toMatchObject({
      ok: true,
      output: 'saved note 1: from a run',
    });
  });

  it('exposes an agent as an MCP server that the official MCP client calls', async () => {
    const ws = server.workspaceId;
    const definition = scriptedAgent('helper', [[{ type: 'text', text: 'Hello from Parley.' }]]);
    const deployed = await call('POST', `/v1/workspaces/${ws}/agents`, {
      definition,
      deploy: true,
    });
    expect(deployed.status).toBe(201);

    const mcp = new Client({ name: 'test-client', version: '1.0.0' });
    await mcp.connect(
      new StreamableHTTPClientTransport(
        new URL(`${server.url}/v1/workspaces/${ws}/agents/helper/mcp`),
        {
          requestInit: { headers: { authorization: `Bearer ${server.token}` } },
        },
      ),
    );
    try {
      const { tools } = await mcp.listTools();
      expect(tools.map((t) => t.name)).toEqual(['run_helper']);
      const result = await mcp.callTool({ name: 'run_helper', arguments: { input: 'hi' } });
      expect(result.isError).toBeFalsy();
      expect(result.content).toEqual([{ type: 'text', text: 'Hello from Parley.' }]);
      expect(result.structuredContent).toMatchObject({
        text: 'Hello from Parley.',
        conversationId: expect.any(String),
        runId: expect.any(String),
      });
    } finally {
      await mcp.close();
    }

    const anonymous = new Client({ name: 'test-client', version: '1.0.0' });
    await expect(
      anonymous.connect(
        new StreamableHTTPClientTransport(
          new URL(`${server.url}/v1/workspaces/${ws}/agents/helper/mcp`),
        ),
      ),
    ).rejects.toThrow();
  });
});

describe('MCP on a multi-user server', () => {
  let multi: TestServer;
  beforeAll(async () => {
    multi = await startTestServer({ env: { PARLEY_MULTI_USER: '1' } });
  });
  afterAll(async () => {
    await multi?.close();
  });

  it('refuses stdio servers an operator did not list and HTTP servers on non-public addresses', async () => {
    const { owner, workspaceId: ws } = await signUpOwner(multi, 'mcp@example.com');
    const run = async (name: string, mcp: unknown[]) => {
      const deployed = await owner('POST', `/v1/workspaces/${ws}/agents`, {
        definition: scriptedAgent(name, [[{ type: 'text', text: 'x' }]], { mcp }),
        deploy: true,
      });
      expect(deployed.status, await deployed.clone().text()).toBe(201);
      const res = await owner(
        'POST',
        `/v1/workspaces/${ws}/agents/${name}/runs`,
        { input: 'go' },
        { accept: 'application/json' },
      );
      return { status: res.status, body: (await res.json()) as { code: string; detail: string } };
    };
    const stdio = await run('spawner', [
      { name: 'notes', transport: { stdio: { command: process.execPath, args: [notesServer] } } },
    ]);
    expect(stdio.status).toBe(422);
    expect(stdio.body.code).toBe('agent.unavailable');
    expect(stdio.body.detail).toMatch(/PARLEY_MCP_COMMANDS/);

    const http = await run('prober', [
      { name: 'inside', transport: { url: 'http://127.0.0.1:9/mcp' } },
    ]);
    expect(http.status).toBe(422);
    expect(http.body.detail).toMatch(
      /MCP server inside could not be reached: .*not a public internet address/,
    );
  });
});
