import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkModelKey } from '../src/runs/key-check.ts';
import { client, scriptedAgent, startTestServer, type TestServer } from './support/harness.ts';

/*
 * Issue #29 item 3: each use of a secret has a destination, and the destination must be
 * allowed for it. Local HTTP servers stand in for providers and MCP servers and record every
 * request's headers: a refused destination never sees a request, so never the secret. And a
 * secret an MCP server echoes back is in neither the live stream nor the stored events.
 */

interface Recorder {
  server: Server;
  port: number;
  hits: { url: string; headers: IncomingHttpHeaders }[];
}

async function recorder(host: string): Promise<Recorder> {
  const hits: Recorder['hits'] = [];
  const server = createServer((req, res) => {
    hits.push({ url: req.url ?? '', headers: req.headers });
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ object: 'list', data: [] }));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, port: (server.address() as AddressInfo).port, hits };
}

/** An address of this machine that is not loopback (the test machine's own network). */
const lanAddress = Object.values(networkInterfaces())
  .flat()
  .find((a) => a?.family === 'IPv4' && !a.internal)?.address;

const KEY = 'sk-the-workspace-key-000111222';
const BEARER = 'mcp-bearer-token-333444555';

let refusedHost: Recorder;
let allowedHost: Recorder;

beforeAll(async () => {
  // Listening on every address: reachable as 127.0.0.1 and as the machine's LAN address.
  refusedHost = await recorder('0.0.0.0');
  allowedHost = await recorder('127.0.0.1');
});
afterAll(async () => {
  refusedHost.server.close();
  allowedHost.server.close();
});

const agent = (
  name: string,
  model: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) => ({
  name,
  instructions: 'x',
  model: { model: 'm', ...model },
  ...extra,
});

describe('where secrets may go on a multi-user server', () => {
  let multi: TestServer;
  let send: (method: string, path: string, body?: unknown) => Promise<Response>;
  let ws = '';

  beforeAll(async () => {
    multi = await startTestServer({
      env: {
        PARLEY_MULTI_USER: '1',
        PARLEY_MODEL_HOSTS: `http://127.0.0.1:${allowedHost.port}`,
        PARLEY_MCP_HOSTS: `http://127.0.0.1:${allowedHost.port}`,
      },
    });
    const res = await fetch(`${multi.url}/v1/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: multi.url },
      body: JSON.stringify({ email: 'dest@example.com', password: 'a-long-enough-password' }),
    });
    const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
    ws = ((await res.json()) as { workspaces: { id: string }[] }).workspaces[0]!.id;
    send = (method, path, body) =>
      fetch(`${multi.url}${path}`, {
        method,
        headers: { cookie, origin: multi.url, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    for (const [name, value] of [
      ['OPENAI_API_KEY', KEY],
      ['ANTHROPIC_API_KEY', KEY],
      ['LOCAL_KEY', KEY],
      ['MCP_BEARER', BEARER],
    ])
      expect(
        (await send('PUT', `/v1/workspaces/${ws}/secrets/${name}`, { value })).status,
      ).toBeLessThan(300);
  });
  afterAll(async () => {
    await multi?.close();
  });

  const deploy = (definition: unknown) =>
    send('POST', `/v1/workspaces/${ws}/agents`, { definition, deploy: true });

  it.each([
    [
      'a provider key to a host the operator did not list',
      agent('exfil-http', { provider: 'openai', baseURL: 'http://127.0.0.1:REFUSED/v1' }),
      /plain http/,
    ],
    [
      'a provider key to another provider’s host',
      agent('cross', { provider: 'anthropic', baseURL: 'https://api.openai.com/v1' }),
      /anthropic key may not be sent to api\.openai\.com/,
    ],
    [
      'an openai-compatible model without a baseURL (its default is this server)',
      agent('implicit', { provider: 'openai-compatible', apiKeySecret: 'LOCAL_KEY' }),
      /needs an explicit baseURL/,
    ],
    [
      'a plain-http base URL for a real provider',
      agent('plain', { provider: 'openai', baseURL: 'http://api.openai.com/v1' }),
      /plain http/,
    ],
    [
      'an MCP bearer token to a host the operator did not list',
      agent(
        'mcp-exfil',
        { provider: 'scripted' },
        {
          mcp: [
            {
              name: 'collector',
              transport: { url: 'http://127.0.0.1:REFUSED/mcp', bearerTokenSecret: 'MCP_BEARER' },
            },
          ],
        },
      ),
      /MCP server collector: .*bearer token|plain http/,
    ],
  ])('refuses %s at deploy (422 agent.secret_destination)', async (_what, definition, says) => {
    const text = JSON.stringify(definition).replaceAll('REFUSED', String(refusedHost.port));
    const res = await deploy(JSON.parse(text));
    const problem = (await res.json()) as { code: string; detail: string };
    expect(res.status).toBe(422);
    expect(problem.code).toBe('agent.secret_destination');
    expect(problem.detail).toMatch(says);
    expect(refusedHost.hits).toEqual([]);
  });

  it.each([
    ['NODE_OPTIONS', /Node\.js/],
    ['LD_PRELOAD', /dynamic loader/],
    ['BASH_ENV', /shell/],
  ])(
    'refuses a stdio MCP server whose secretEnv sets %s (422 naming it)',
    async (variable, says) => {
      const res = await deploy(
        agent(
          'spawner',
          { provider: 'scripted' },
          {
            mcp: [
              {
                name: 'tools',
                transport: {
                  stdio: { command: 'npx', args: ['x'], secretEnv: { [variable]: 'LOCAL_KEY' } },
                },
              },
            ],
          },
        ),
      );
      const problem = (await res.json()) as {
        code: string;
        errors: { path: string; message: string }[];
      };
      expect(res.status).toBe(422);
      expect(problem.code).toBe('agent.invalid_definition');
      expect(problem.errors).toEqual([
        {
          path: `definition.mcp[0].transport.stdio.secretEnv.${variable}`,
          message: expect.stringMatching(
            new RegExp(`^${variable} may not be set from a secret.*${says.source}`),
          ),
        },
      ]);
    },
  );

  it('sends a key where the operator allowed it: the key check reaches the listed host', async () => {
    const res = await deploy(
      agent('local', {
        provider: 'openai-compatible',
        apiKeySecret: 'LOCAL_KEY',
        baseURL: `http://127.0.0.1:${allowedHost.port}/v1`,
      }),
    );
    expect(res.status, await res.clone().text()).toBe(201);
    const check = await send('POST', `/v1/workspaces/${ws}/agents/local/key-check`, {});
    const body = (await check.json()) as { checks: { result: string }[] };
    expect(body.checks[0]?.result).toBe('ok');
    expect(allowedHost.hits.at(-1)?.headers.authorization).toBe(`Bearer ${KEY}`);
    // An MCP bearer token to the operator's listed MCP host deploys too.
    const mcp = await deploy(
      agent(
        'mcp-ok',
        { provider: 'scripted' },
        {
          mcp: [
            {
              name: 'listed',
              transport: {
                url: `http://127.0.0.1:${allowedHost.port}/mcp`,
                bearerTokenSecret: 'MCP_BEARER',
              },
            },
          ],
        },
      ),
    );
    expect(mcp.status, await mcp.clone().text()).toBe(201);
  });

  it('refuses at run time and at the key check an agent stored before the rule', async () => {
    await multi.store.withWorkspace(ws, async (w) => {
      const stored = await w.agents.create({ name: 'legacy' });
      await w.agents.deploy(stored.id, {
        definition: agent('legacy', {
          provider: 'openai',
          params: {},
          baseURL: `http://127.0.0.1:${refusedHost.port}/v1`,
        }),
      });
    });
    const run = await send('POST', `/v1/workspaces/${ws}/agents/legacy/runs`, { input: 'hi' });
    expect(run.status, await run.clone().text()).toBe(422);
    expect(((await run.json()) as { code: string }).code).toBe('agent.secret_destination');
    const check = await send('POST', `/v1/workspaces/${ws}/agents/legacy/key-check`, {});
    expect(check.status).toBe(422);
    expect(refusedHost.hits).toEqual([]);
  });
});

describe('where secrets may go on a single-user server', () => {
  let single: TestServer;
  let call: ReturnType<typeof client>;
  beforeAll(async () => {
    single = await startTestServer();
    call = client(single.url, single.token);
    await call('PUT', `/v1/workspaces/${single.workspaceId}/secrets/OPENAI_API_KEY`, {
      value: KEY,
    });
  });
  afterAll(async () => {
    await single?.close();
  });

  it('sends a key over plain http to this machine only', async () => {
    const ok = await call('POST', `/v1/workspaces/${single.workspaceId}/agents`, {
      definition: agent('loopback', {
        provider: 'openai',
        baseURL: `http://127.0.0.1:${allowedHost.port}/v1`,
      }),
    });
    expect(ok.status, await ok.clone().text()).toBe(201);
    if (!lanAddress) return;
    const lan = await call('POST', `/v1/workspaces/${single.workspaceId}/agents`, {
      definition: agent('lan', {
        provider: 'openai',
        baseURL: `http://${lanAddress}:${refusedHost.port}/v1`,
      }),
    });
    expect(lan.status).toBe(422);
    expect(((await lan.json()) as { detail: string }).detail).toMatch(/plain http/);
    expect(refusedHost.hits).toEqual([]);
  });

  it('the key check parley doctor makes follows the same rule (nothing sent)', async () => {
    const host = lanAddress ?? 'example.com';
    const check = await checkModelKey(
      {
        provider: 'openai',
        model: 'm',
        params: {},
        baseURL: `http://${host}:${refusedHost.port}/v1`,
      },
      new Map([['OPENAI_API_KEY', KEY]]),
    );
    expect(check.result).toBe('refused');
    expect(check.host).toBeNull();
    expect(check.detail).toMatch(/plain http/);
    expect(refusedHost.hits).toEqual([]);
    const allowed = await checkModelKey(
      {
        provider: 'openai',
        model: 'm',
        params: {},
        baseURL: `http://localhost:${allowedHost.port}/v1`,
      },
      new Map([['OPENAI_API_KEY', KEY]]),
    );
    expect(allowed.result).toBe('ok');
  });
});

describe('secrets an MCP server echoes back', () => {
  const echoServer = fileURLToPath(
    new URL('../../mcp/test/fixtures/echo-server.ts', import.meta.url),
  );
  const PAT = 'ghp-workspace-pat-777888999';
  const PLUGIN_KEY = 'wk-community-plugin-key-121212';
  let single: TestServer;
  let call: ReturnType<typeof client>;
  let web: ChildProcess;
  let webUrl = '';

  beforeAll(async () => {
    // This HTTP server knows the stdio server's secret by other means: a secret the run
    // resolved is redacted whichever tool returns it.
    web = spawn(process.execPath, [echoServer, 'http'], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, LEAKED: PAT, PLUGIN_LEAK: PLUGIN_KEY },
    });
    const lines = createInterface({ input: web.stdout! });
    webUrl = await new Promise<string>((resolve) =>
      lines.on('line', (line) => {
        if (line.startsWith('listening ')) resolve(line.slice('listening '.length));
      }),
    );
    // A community plugin whose process holds WEATHER_KEY (started once, kept for later runs).
    const pluginsDir = mkdtempSync(join(tmpdir(), 'parley-plugins-'));
    mkdirSync(join(pluginsDir, '@fixtures'));
    symlinkSync(
      fileURLToPath(new URL('../../sandbox/test/fixtures/probe-plugin', import.meta.url)),
      join(pluginsDir, '@fixtures', 'plugin-probe'),
    );
    single = await startTestServer({ env: { PARLEY_PLUGINS_DIR: pluginsDir } });
    call = client(single.url, single.token);
    for (const [name, value] of [
      ['GH_PAT', PAT],
      ['MCP_BEARER', BEARER],
      ['WEATHER_KEY', PLUGIN_KEY],
    ])
      await call('PUT', `/v1/workspaces/${single.workspaceId}/secrets/${name}`, { value });
  }, 180_000);
  afterAll(async () => {
    web.kill();
    await single?.close();
  });

  it('are redacted from the live stream and the stored events', async () => {
    const ws = single.workspaceId;
    const definition = scriptedAgent(
      'echoer',
      [
        [{ type: 'tool_call', name: 'local_env', id: 't1', args: {} }],
        [{ type: 'tool_call', name: 'web_authorization', id: 't2', args: {} }],
        [{ type: 'tool_call', name: 'web_fail', id: 't3', args: { name: 'LEAKED' } }],
        [{ type: 'tool_call', name: 'local_fail', id: 't4', args: { name: 'GITHUB_TOKEN' } }],
        [{ type: 'text', text: 'done' }],
      ],
      {
        mcp: [
          {
            name: 'local',
            transport: {
              stdio: {
                command: process.execPath,
                args: [echoServer, 'stdio'],
                secretEnv: { GITHUB_TOKEN: 'GH_PAT' },
              },
            },
          },
          { name: 'web', transport: { url: webUrl, bearerTokenSecret: 'MCP_BEARER' } },
        ],
      },
    );
    const deployed = await call('POST', `/v1/workspaces/${ws}/agents`, {
      definition,
      deploy: true,
    });
    expect(deployed.status, await deployed.clone().text()).toBe(201);
    const live = await fetch(`${single.url}/v1/workspaces/${ws}/agents/echoer/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${single.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ input: 'go' }),
    });
    expect(live.status).toBe(200);
    const streamed = await live.text();
    const runId = /"runId":"([^"]+)"/.exec(streamed)?.[1];
    expect(runId).toBeDefined();
    const stored = await (
      await fetch(`${single.url}/v1/runs/${runId}/events`, {
        headers: { authorization: `Bearer ${single.token}` },
      })
    ).text();
    for (const text of [streamed, stored]) {
      expect(text).toContain('run.finish');
      // Each tool answered, with the secret replaced.
      expect(text).toContain('you sent: Bearer [REDACTED]');
      expect(text).toContain('cannot use [REDACTED]');
      expect(text).toContain('"GITHUB_TOKEN":"[REDACTED]"');
      for (const secret of [PAT, BEARER]) expect(text).not.toContain(secret);
    }
  });

  it('include a community plugin’s secrets, in every run its kept process serves', async () => {
    const ws = single.workspaceId;
    const definition = scriptedAgent(
      'plugin-echoer',
      [
        [{ type: 'tool_call', name: 'web_fail', id: 'l1', args: { name: 'PLUGIN_LEAK' } }],
        [{ type: 'text', text: 'done' }],
      ],
      {
        plugins: [{ name: '@fixtures/plugin-probe', version: '^1.0.0' }],
        mcp: [{ name: 'web', transport: { url: webUrl, bearerTokenSecret: 'MCP_BEARER' } }],
      },
    );
    const deployed = await call('POST', `/v1/workspaces/${ws}/agents`, {
      definition,
      deploy: true,
    });
    expect(deployed.status, await deployed.clone().text()).toBe(201);
    // The first run starts the plugin's process (it reads the secret then); the second reuses it.
    for (const round of [1, 2]) {
      const res = await call(
        'POST',
        `/v1/workspaces/${ws}/agents/plugin-echoer/runs`,
        { input: `round ${round}` },
        { accept: 'application/json' },
      );
      const text = await res.text();
      expect(res.status, text).toBe(200);
      expect(text).toContain('cannot use [REDACTED]');
      expect(text).not.toContain(PLUGIN_KEY);
    }
  });
});
