import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { AgentConfigError, type McpServerRef, McpServerRefSchema } from '@parley/core';
import { BASE_HOST_ENV, connectMcpServers, type McpConnections } from '@parley/mcp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

/*
 * Issue #29 items 2 and 3: a stdio MCP server gets the base host variables, the operator's
 * (PARLEY_MCP_ENV) and its declared secrets under allowed names — nothing else of the
 * server's environment — and what a server echoes of the secrets it was given never comes back.
 */

const echoServer = fileURLToPath(new URL('./fixtures/echo-server.ts', import.meta.url));
const SECRETS: Record<string, string> = {
  GH_PAT: 'ghp-the-workspace-pat-4242',
  BEARER: 'bearer-value-9191',
};
const secret = async (name: string) => SECRETS[name];

const open: McpConnections[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

async function connect(server: McpServerRef, hostEnv?: string[]) {
  const connections = await connectMcpServers([server], {
    secret,
    callTimeoutMs: 10_000,
    ...(hostEnv ? { hostEnv } : {}),
  });
  open.push(connections);
  return connections;
}

const call = (connections: McpConnections, name: string, args: object = {}) =>
  connections.tools
    .find((t) => t.tool.name === name)!
    .tool.run(args, { signal: AbortSignal.timeout(10_000) } as never);

/** A stdio server entry as a stored definition holds it, with `secretEnv` set unchecked. */
function stdioServer(name: string, args: string[], secretEnv: Record<string, string>) {
  const server = McpServerRefSchema.parse({
    name,
    transport: { stdio: { command: process.execPath, args } },
  });
  if ('stdio' in server.transport) Object.assign(server.transport.stdio.secretEnv, secretEnv);
  return server;
}

const stdioEcho = (secretEnv: Record<string, string>) =>
  stdioServer('echo', [echoServer, 'stdio'], secretEnv);

describe('the environment of a stdio MCP server', () => {
  beforeAll(() => {
    process.env.H5_SERVER_ONLY = 'a-value-only-the-server-has';
    process.env.H5_OPERATOR_PASSED = 'operator-chose-this';
  });
  afterAll(() => {
    delete process.env.H5_SERVER_ONLY;
    delete process.env.H5_OPERATOR_PASSED;
  });

  it('is the base host set, the operator list and the declared secrets: nothing else', async () => {
    const connections = await connect(stdioEcho({ GITHUB_TOKEN: 'GH_PAT' }), [
      'H5_OPERATOR_PASSED',
    ]);
    const { env } = (await call(connections, 'echo_env')) as { env: Record<string, string> };
    // Node's own start-up may add a few (e.g. for its child); none of the server's.
    const allowed = new Set([...BASE_HOST_ENV, 'H5_OPERATOR_PASSED', 'GITHUB_TOKEN']);
    expect(Object.keys(env).filter((name) => !allowed.has(name))).toEqual([]);
    expect(env.H5_OPERATOR_PASSED).toBe('operator-chose-this');
    expect(env.PATH).toBe(process.env.PATH);
    expect(env.H5_SERVER_ONLY).toBeUndefined();
    // The secret is in its environment, but it never comes back through a tool.
    expect(env.GITHUB_TOKEN).toBe('[REDACTED]');
    expect(JSON.stringify(env)).not.toContain(SECRETS.GH_PAT);
    expect(connections.secrets).toEqual([SECRETS.GH_PAT]);
  });

  it('a tool error quoting the secret is redacted too', async () => {
    const connections = await connect(stdioEcho({ GITHUB_TOKEN: 'GH_PAT' }));
    const failed = call(connections, 'echo_fail', { name: 'GITHUB_TOKEN' });
    await expect(failed).rejects.toThrow('cannot use [REDACTED]');
  });

  it.each([
    ['NODE_OPTIONS', /Node\.js/],
    ['LD_PRELOAD', /dynamic loader/],
    ['BASH_ENV', /shell/],
    ['PYTHONSTARTUP', /Python/],
    ['GIT_SSH_COMMAND', /git, ssh/],
  ])(
    'a stored definition setting %s is refused again before the program starts',
    async (variable, says) => {
      const marker = join(mkdtempSync(join(tmpdir(), 'parley-env-')), 'started');
      const server = stdioServer(
        'spawner',
        ['-e', `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'x')`],
        { [variable]: 'GH_PAT' },
      );

      const refused = connectMcpServers([server], { secret, callTimeoutMs: 5_000 });
      await expect(refused).rejects.toThrow(AgentConfigError);
      await expect(refused).rejects.toThrow(
        new RegExp(`MCP server spawner: ${variable} may not be set from a secret.*${says.source}`),
      );
      expect(existsSync(marker)).toBe(false);
    },
  );
});

describe('an HTTP MCP server that echoes its bearer token', () => {
  let http: ChildProcess;
  let url = '';
  beforeAll(async () => {
    http = spawn(process.execPath, [echoServer, 'http'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = createInterface({ input: http.stdout! });
    url = await new Promise<string>((resolve) =>
      lines.on('line', (line) => {
        if (line.startsWith('listening ')) resolve(line.slice('listening '.length));
      }),
    );
  });
  afterAll(() => {
    http.kill();
  });

  it('gets the token, and what it says back has none of it', async () => {
    const connections = await connect({
      name: 'echo',
      transport: { url, bearerTokenSecret: 'BEARER' },
      requireApproval: [],
    });
    expect(await call(connections, 'echo_authorization')).toBe('you sent: Bearer [REDACTED]');
    await expect(call(connections, 'echo_fail', { name: 'NONE' })).rejects.toThrow(
      'cannot use Bearer [REDACTED]',
    );
  });
});
