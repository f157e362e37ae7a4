import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  client,
  scriptedAgent,
  signUpOwner,
  startTestServer,
  type TestServer,
} from './support/harness.ts';

/*
 * Issue #29's red team, replayed against a real server: a community plugin that declares
 * nothing and a stdio MCP program of an agent's, both hostile, each technique refused, the
 * server unharmed (it is this process: a signal or a kill would end the test), each attempt
 * audited where Parley can see it. The OS sandbox's own boundary is tested in
 * packages/sandbox/test/os-sandbox.test.ts.
 */

const fixture = (path: string) =>
  fileURLToPath(new URL(`../../sandbox/test/fixtures/${path}`, import.meta.url));
const hostileMcp = fixture('hostile-mcp/hostile-mcp.mjs');
const POSTGRES_SOCKET = '/var/run/postgresql/.s.PGSQL.5432';

const pluginsDir = mkdtempSync(join(tmpdir(), 'parley-hostile-plugins-'));
mkdirSync(join(pluginsDir, '@fixtures'));
symlinkSync(fixture('hostile-plugin'), join(pluginsDir, '@fixtures', 'plugin-hostile'));
symlinkSync(fixture('flaky-plugin'), join(pluginsDir, '@fixtures', 'plugin-flaky'));

/** Stands in for what the host's loopback holds (the database): it must never be reached. */
let database: Server;
const dialled: string[] = [];
/** What an MCP program may reach through its proxy, and what it may not. */
let allowed: HttpServer;
let forbidden: HttpServer;
const requests: string[] = [];
let server: TestServer;
let call: ReturnType<typeof client>;

const port = (s: Server | HttpServer) => (s.address() as AddressInfo).port;

beforeAll(async () => {
  database = createNetServer((socket) => {
    dialled.push('database');
    socket.destroy();
  }).listen(0, '127.0.0.1');
  allowed = createHttpServer((req, res) => {
    requests.push(`allowed ${req.url}`);
    res.end('fine');
  }).listen(0, '127.0.0.1');
  forbidden = createHttpServer((req, res) => {
    requests.push(`forbidden ${req.url}`);
    res.end('leaked');
  }).listen(0, '127.0.0.1');
  await Promise.all([database, allowed, forbidden].map((s) => once(s, 'listening')));
  server = await startTestServer({ env: { PARLEY_PLUGINS_DIR: pluginsDir } });
  call = client(server.url, server.token);
});
afterAll(async () => {
  await server?.close();
  for (const s of [database, allowed, forbidden]) s?.close();
});

interface Part {
  kind: string;
  toolCallId?: string;
  result?: { ok: boolean; output?: unknown; error?: { message?: string } | string };
}

async function deployAndRun(definition: { name: string }) {
  const ws = server.workspaceId;
  const deployed = await call('POST', `/v1/workspaces/${ws}/agents`, { definition, deploy: true });
  expect(deployed.status, await deployed.clone().text()).toBe(201);
  const run = await call(
    'POST',
    `/v1/workspaces/${ws}/agents/${definition.name}/runs`,
    { input: 'go' },
    { accept: 'application/json' },
  );
  expect(run.status).toBe(200);
  return (await run.json()) as { run: { id: string }; outcome: string; parts: Part[] };
}

const output = (parts: Part[], id: string) =>
  parts.find((p) => p.kind === 'tool_call' && p.toolCallId === id)?.result;

const auditOf = async (runId: string) => {
  const res = await call('GET', `/v1/workspaces/${server.workspaceId}/audit?limit=200`);
  return (
    (await res.json()) as {
      action: string;
      runId: string | null;
      metadata: { resource?: string };
    }[]
  )
    .filter((a) => a.runId === runId)
    .map((a) => `${a.action} ${a.metadata.resource}`);
};

async function serverServes() {
  const res = await call('GET', `/v1/workspaces/${server.workspaceId}/agents`);
  return res.status;
}

describe('a hostile community plugin', () => {
  it("is refused each of the red team's techniques, the server unharmed, each attempt audited", async () => {
    const body = await deployAndRun(
      scriptedAgent(
        'intruder',
        [
          [
            {
              type: 'tool_call',
              name: 'attack',
              id: 'a1',
              args: { serverPid: process.pid, hostPort: port(database) },
            },
          ],
          [{ type: 'text', text: 'Done.' }],
        ],
        { plugins: [{ name: '@fixtures/plugin-hostile', version: '^1.0.0' }] },
      ),
    );
    expect(body.outcome).toBe('run.finish');
    const denied = { ok: false, error: 'ERR_ACCESS_DENIED' };
    expect(output(body.parts, 'a1')).toMatchObject({
      ok: true,
      output: {
        // Its own network namespace: the host's loopback is not there to dial.
        stdoutSocket: { ok: false, error: 'ECONNREFUSED' },
        tlsWrap: denied,
        httpAgent: denied,
        tty: denied,
        binding: denied,
        environ: denied,
        debug: denied,
        kill: denied,
        writeOwnDir: denied,
        runtimeLink: denied,
      },
    });
    expect(dialled).toEqual([]);
    expect(existsSync(fixture('hostile-plugin/pwned'))).toBe(false);
    expect(await serverServes()).toBe(200);
    await expect
      .poll(() => auditOf(body.run.id))
      .toEqual(
        expect.arrayContaining([
          'plugin.denied node:_tls_wrap',
          'plugin.denied node:_http_agent',
          'plugin.denied node:tty',
          'plugin.denied process.binding',
          'plugin.denied process._debugProcess',
          'plugin.denied process.kill',
          `plugin.denied FileSystemRead:/proc/${process.pid}/environ`,
        ]),
      );
  });

  it('past its memory limit is stopped with a typed error, and the run goes on', async () => {
    const body = await deployAndRun(
      scriptedAgent(
        'hoarder',
        [
          [{ type: 'tool_call', name: 'hoard', id: 'h1', args: { mb: 2048 } }],
          [
            {
              type: 'tool_call',
              name: 'attack',
              id: 'a2',
              args: { serverPid: process.pid, hostPort: port(database) },
            },
          ],
          [{ type: 'text', text: 'Still here.' }],
        ],
        { plugins: [{ name: '@fixtures/plugin-hostile', version: '^1.0.0' }] },
      ),
    );
    expect(body.outcome).toBe('run.finish');
    const hoard = output(body.parts, 'h1');
    expect(hoard?.ok).toBe(false);
    expect(JSON.stringify(hoard?.error)).toMatch(
      /exited .* during a call of hoard; it was restarted/,
    );
    expect(output(body.parts, 'a2')?.ok).toBe(true);
    expect(await serverServes()).toBe(200);
  });
});

describe("a hostile agent's stdio MCP program", () => {
  it('gets nothing out of its OS sandbox; its network goes only to its declared host, audited', async () => {
    const abstractName = `parley-e2e-${process.pid}`;
    const abstract = createNetServer(() => dialled.push('abstract')).listen({
      path: `\0${abstractName}`,
    });
    await once(abstract, 'listening');
    try {
      const body = await deployAndRun(
        scriptedAgent(
          'mcp-intruder',
          [
            [
              {
                type: 'tool_call',
                name: 'evil_escape',
                id: 'e1',
                args: {
                  serverPid: process.pid,
                  dataDir: server.config.dataDir,
                  hostPort: port(database),
                  postgresSocket: POSTGRES_SOCKET,
                  abstractName,
                },
              },
            ],
            [
              {
                type: 'tool_call',
                name: 'evil_get',
                id: 'g1',
                args: { url: `http://127.0.0.1:${port(allowed)}/declared` },
              },
            ],
            [
              {
                type: 'tool_call',
                name: 'evil_get',
                id: 'g2',
                args: { url: `http://127.0.0.1:${port(forbidden)}/steal` },
              },
            ],
            [{ type: 'text', text: 'Done.' }],
          ],
          {
            mcp: [
              {
                name: 'evil',
                transport: {
                  stdio: {
                    command: process.execPath,
                    args: [hostileMcp],
                    sandbox: { network: [`127.0.0.1:${port(allowed)}`] },
                  },
                },
              },
            ],
          },
        ),
      );
      expect(body.outcome).toBe('run.finish');
      const escaped = JSON.parse(String(output(body.parts, 'e1')?.output)) as Record<
        string,
        { ok: boolean; error?: string }
      >;
      expect(escaped).toMatchObject({
        environ: { ok: false, error: 'ENOENT' },
        sigkill: { ok: false, error: 'ESRCH' },
        debug: { ok: false, error: 'ESRCH' },
        dataDir: { ok: false, error: 'ENOENT' },
        writeOwnDir: { ok: false, error: 'EROFS' },
        runtimeLink: { ok: false, error: 'ENOENT' },
        tcpHost: { ok: false, error: 'ECONNREFUSED' },
        unixPostgres: { ok: false, error: 'ENOENT' },
        abstractSocket: { ok: false, error: 'ECONNREFUSED' },
      });
      // The host has them: the sandbox is what hides them.
      expect(existsSync(server.config.dataDir)).toBe(true);
      expect(existsSync(POSTGRES_SOCKET)).toBe(true);
      expect(dialled).toEqual([]);

      expect(String(output(body.parts, 'g1')?.output)).toContain('"status":200');
      // Refused by the proxy (its CONNECT answered 403): fetch fails.
      expect(String(output(body.parts, 'g2')?.output)).toContain('"error"');
      expect(requests).toEqual(['allowed /declared']);
      expect(await serverServes()).toBe(200);
      await expect
        .poll(() => auditOf(body.run.id))
        .toEqual(
          expect.arrayContaining([
            `plugin.network_request 127.0.0.1:${port(allowed)}`,
            `plugin.denied 127.0.0.1:${port(forbidden)}`,
          ]),
        );
    } finally {
      abstract.close();
    }
  });
});

describe("on a multi-user server, an MCP program's sandbox", () => {
  let multi: TestServer;
  beforeAll(async () => {
    multi = await startTestServer({
      env: {
        PARLEY_MULTI_USER: '1',
        PARLEY_MCP_COMMANDS: `${process.execPath} ${hostileMcp}`,
        PARLEY_MCP_PATHS: '/srv/parley-mcp',
      },
    });
  });
  afterAll(async () => {
    await multi?.close();
  });

  it('reaches public addresses only, checked at connect time, and host paths an operator listed', async () => {
    const { owner, workspaceId: ws } = await signUpOwner(multi, 'sandbox@example.com');
    const run = async (name: string, sandbox: object, script: unknown[]) => {
      const deployed = await owner('POST', `/v1/workspaces/${ws}/agents`, {
        definition: scriptedAgent(name, script, {
          mcp: [
            {
              name: 'evil',
              transport: { stdio: { command: process.execPath, args: [hostileMcp], sandbox } },
            },
          ],
        }),
        deploy: true,
      });
      expect(deployed.status, await deployed.clone().text()).toBe(201);
      const res = await owner(
        'POST',
        `/v1/workspaces/${ws}/agents/${name}/runs`,
        { input: 'go' },
        { accept: 'application/json' },
      );
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

    // A name that resolves to loopback (as a rebinding name would) is declared, yet refused
    // where the proxy connects: the address is checked then, not when the name was written.
    const rebound = await run('rebinder', { network: [`localhost:${port(forbidden)}`] }, [
      [
        {
          type: 'tool_call',
          name: 'evil_get',
          id: 'r1',
          args: { url: `http://localhost:${port(forbidden)}/internal` },
        },
      ],
      [{ type: 'text', text: 'Done.' }],
    ]);
    expect(rebound.status).toBe(200);
    const parts = rebound.body.parts as Part[];
    expect(String(output(parts, 'r1')?.output)).toMatch(/"status":(502|403)|"error"/);
    expect(requests.filter((r) => r.startsWith('forbidden'))).toEqual([]);

    const reader = await run('reader', { read: ['/etc/parley'] }, [[{ type: 'text', text: 'x' }]]);
    expect(reader.status).toBe(422);
    expect(String(reader.body.detail)).toMatch(/\/etc\/parley.*PARLEY_MCP_PATHS/);
  });
});

describe('where the host cannot provide the OS sandbox', () => {
  it('refuses community plugins and stdio MCP servers with the reason and what to do', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-nobwrap-'));
    chmodSync(dir, 0o755);
    const stub = join(dir, 'bwrap');
    // What bubblewrap answers where the kernel forbids user namespaces.
    writeFileSync(
      stub,
      '#!/bin/sh\necho "bwrap: setting up uid map: Permission denied" >&2\nexit 1\n',
      {
        mode: 0o755,
      },
    );
    const previous = process.env.PARLEY_BWRAP;
    process.env.PARLEY_BWRAP = stub;
    try {
      const ws = server.workspaceId;
      const refusedRun = async (definition: { name: string }) => {
        const deployed = await call('POST', `/v1/workspaces/${ws}/agents`, {
          definition,
          deploy: true,
        });
        expect(deployed.status).toBe(201);
        const res = await call(
          'POST',
          `/v1/workspaces/${ws}/agents/${definition.name}/runs`,
          { input: 'go' },
          { accept: 'application/json' },
        );
        return { status: res.status, body: (await res.json()) as { code: string; detail: string } };
      };
      const plugin = await refusedRun(
        scriptedAgent('unsandboxed-plugin', [[{ type: 'text', text: 'x' }]], {
          plugins: [{ name: '@fixtures/plugin-flaky', version: '^1.0.0' }],
        }),
      );
      expect(plugin.status).toBe(422);
      expect(plugin.body.code).toBe('agent.unavailable');
      expect(plugin.body.detail).toMatch(/uid map: Permission denied.*PARLEY_SANDBOX=weak/);
      const program = await refusedRun(
        scriptedAgent('unsandboxed-mcp', [[{ type: 'text', text: 'x' }]], {
          mcp: [
            {
              name: 'evil',
              transport: { stdio: { command: process.execPath, args: [hostileMcp] } },
            },
          ],
        }),
      );
      expect(program.status).toBe(422);
      expect(program.body.detail).toMatch(/cannot provide the OS sandbox/);
      expect(await serverServes()).toBe(200);
    } finally {
      if (previous === undefined) delete process.env.PARLEY_BWRAP;
      else process.env.PARLEY_BWRAP = previous;
    }
  });
});

describe('the server process', () => {
  it('never opens its inspector on a signal (SIGUSR1 or process._debugProcess)', async () => {
    // Control: a plain Node process opens it (signalled once it is running).
    const plain = spawn(
      process.execPath,
      ['--inspect-port=0', '-e', 'console.log("ready"); setInterval(() => {}, 1000)'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let plainOut = '';
    let plainErr = '';
    plain.stdout.on('data', (chunk: Buffer) => {
      plainOut += chunk;
    });
    plain.stderr.on('data', (chunk: Buffer) => {
      plainErr += chunk;
    });
    await expect.poll(() => plainOut).toContain('ready');
    process.kill(plain.pid!, 'SIGUSR1');
    await expect.poll(() => plainErr).toContain('Debugger listening');
    plain.kill();

    // The server as `parley start` runs it (no --disable-sigusr1 flag: serve()'s listener).
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-sigusr1-'));
    const main = fileURLToPath(new URL('../src/main.js', import.meta.url));
    const child = spawn(process.execPath, [main], {
      env: { PATH: process.env.PATH ?? '', PARLEY_DATA_DIR: dataDir, PARLEY_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk;
    });
    try {
      await expect.poll(() => out, { timeout: 90_000 }).toMatch(/Parley listening on/);
      const ignored = () => (out.match(/ignored SIGUSR1/g) ?? []).length;
      // One at a time: two signals sent together arrive as one.
      (process as unknown as { _debugProcess(pid: number): void })._debugProcess(child.pid!);
      await expect.poll(ignored, { timeout: 15_000 }).toBe(1);
      process.kill(child.pid!, 'SIGUSR1');
      await expect.poll(ignored, { timeout: 15_000 }).toBe(2);
      expect(err).not.toContain('Debugger listening');
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  }, 120_000);
});
