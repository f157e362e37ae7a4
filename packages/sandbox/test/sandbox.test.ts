import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ToolTimeoutError } from '@parley/core';
import {
  namespaceCommand,
  osSandboxStatus,
  PluginCrashedError,
  type SandboxAuditEvent,
  type SandboxedPlugin,
  startSandboxedPlugin,
} from '@parley/sandbox';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

let weather: Server;
let weatherUrl: string;
let seenAuthorization: string | undefined;
const outsideDir = mkdtempSync(join(tmpdir(), 'parley-outside-'));
const outsideFile = join(outsideDir, 'private.txt');
writeFileSync(outsideFile, 'not for plugins');

beforeAll(async () => {
  weather = createServer((req, res) => {
    seenAuthorization = req.headers.authorization;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ city: 'Lisbon', temperatureC: 21 }));
  });
  weather.listen(0, '127.0.0.1');
  await once(weather, 'listening');
  const address = weather.address() as { port: number };
  weatherUrl = `http://127.0.0.1:${address.port}/now`;
  process.env.PARLEY_SANDBOX_CANARY = 'canary-value-from-the-parent';
});
afterAll(() => {
  weather.close();
  delete process.env.PARLEY_SANDBOX_CANARY;
});

const running: SandboxedPlugin[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((sandbox) => sandbox.stop()));
});

type Mode = { isolation: 'os' | 'weak'; network: 'auto' | 'proxy-only' };

async function probePlugin({ isolation, network }: Mode, audits: SandboxAuditEvent[]) {
  const sandbox = await startSandboxedPlugin({
    isolation,
    dir: fixture('probe-plugin'),
    entry: 'index.ts',
    permissions: { secrets: ['WEATHER_KEY'], network: [new URL(weatherUrl).host] },
    secrets: { WEATHER_KEY: 'wk-secret-123', UNDECLARED_KEY: 'never-sent' },
    onAudit: (event) => audits.push(event),
    network,
  });
  running.push(sandbox);
  return sandbox;
}

// The OS sandbox where this host has it (CI's does: Debian with bubblewrap, as root), and the
// weak mode's two network set-ups.
const modes: Mode[] = [
  ...(osSandboxStatus().available ? [{ isolation: 'os', network: 'auto' } as const] : []),
  ...(namespaceCommand() ? [{ isolation: 'weak', network: 'auto' } as const] : []),
  { isolation: 'weak', network: 'proxy-only' },
];

describe.each(modes)('a sandboxed community plugin (%o)', (mode) => {
  it('reads its declared secret and reaches its declared host', async () => {
    const audits: SandboxAuditEvent[] = [];
    const sandbox = await probePlugin(mode, audits);
    expect(sandbox.isolation).toBe(mode.isolation);
    expect(sandbox.network).toBe(
      mode.isolation === 'os' || mode.network === 'auto' ? 'namespace' : 'proxy-only',
    );
    expect(sandbox.manifest).toMatchObject({ name: '@fixtures/plugin-probe', contract: 1 });
    expect(sandbox.tools.map((t) => t.name).sort()).toEqual(['leak', 'probe', 'weather', 'write']);

    const result = await sandbox.call('weather', { url: weatherUrl }, { toolCallId: 'call_1' });
    expect(result).toEqual({ status: 200, body: { city: 'Lisbon', temperatureC: 21 } });
    expect(seenAuthorization).toBe('Bearer wk-secret-123');
    expect(audits).toContainEqual(
      expect.objectContaining({
        action: 'plugin.secret_read',
        resource: 'WEATHER_KEY',
        plugin: '@fixtures/plugin-probe',
        toolCallId: 'call_1',
      }),
    );
    expect(audits).toContainEqual(
      expect.objectContaining({
        action: 'plugin.network_request',
        kind: 'network',
        resource: new URL(weatherUrl).host,
      }),
    );
    expect(audits.filter((a) => a.action === 'plugin.permission_denied')).toEqual([]);
  });

  it('is denied an undeclared env var, a file outside its directory, an undeclared host and raw sockets, each audited', async () => {
    const audits: SandboxAuditEvent[] = [];
    const sandbox = await probePlugin(mode, audits);
    const result = (await sandbox.call(
      'probe',
      {
        env: 'PARLEY_SANDBOX_CANARY',
        file: outsideFile,
        url: 'http://undeclared.example.test/steal',
      },
      { toolCallId: 'call_2' },
    )) as Record<string, { ok: boolean; error?: string } | string | null>;

    expect(result.env).toBeNull();
    expect(result.file).toEqual({ ok: false, error: 'ERR_ACCESS_DENIED' });
    expect(result.fetch).toMatchObject({ ok: false });
    expect(result.socket).toEqual({ ok: false, error: 'ERR_ACCESS_DENIED' });
    expect(result.builtin).toEqual({ ok: false, error: 'ERR_ACCESS_DENIED' });
    expect(result.required).toEqual({ ok: false, error: 'ERR_ACCESS_DENIED' });
    expect(result.websocket).toMatchObject({ ok: false });

    const denied = audits.filter((a) => a.action === 'plugin.permission_denied');
    expect(denied).toContainEqual(
      expect.objectContaining({ kind: 'env', resource: 'PARLEY_SANDBOX_CANARY' }),
    );
    expect(denied).toContainEqual(
      expect.objectContaining({ kind: 'fs', resource: `FileSystemRead:${outsideFile}` }),
    );
    expect(denied).toContainEqual(
      expect.objectContaining({ kind: 'network', resource: 'undeclared.example.test:80' }),
    );
    expect(denied).toContainEqual(
      expect.objectContaining({ kind: 'module', resource: 'node:net' }),
    );
    expect(denied).toContainEqual(
      expect.objectContaining({ kind: 'module', resource: 'node:tls' }),
    );
    // The WebSocket went to the proxy too, and was refused there.
    expect(
      denied.filter((a) => a.kind === 'network' && a.resource === 'undeclared.example.test:80'),
    ).toHaveLength(2);
    // All of it arrived before the answer, each event attributed to the call.
    for (const event of denied)
      expect(event).toMatchObject({ plugin: '@fixtures/plugin-probe', toolCallId: 'call_2' });
  });
});

describe('the network namespace', () => {
  // Only where this host can make one (Linux with unshare): elsewhere the sandbox says
  // `network: 'proxy-only'` and the tests above run in that mode alone.
  it.runIf(namespaceCommand() !== null)(
    'leaves a process no way out, even with a raw socket: the host’s loopback is not its loopback',
    async () => {
      const port = (weather.address() as { port: number }).port;
      const dir = mkdtempSync(join(tmpdir(), 'parley-netns-'));
      const script = join(dir, 'dial.mjs');
      writeFileSync(
        script,
        `import net from 'node:net';
const socket = net.connect(${port}, '127.0.0.1');
socket.on('connect', () => { process.stdout.write('connected'); process.exit(0); });
socket.on('error', (error) => { process.stdout.write(error.code); process.exit(0); });`,
      );
      const [command, ...args] = namespaceCommand()!;
      const child = spawn(command!, [...args, process.execPath, script], { stdio: 'pipe' });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      await once(child, 'exit');
      expect(output).toBe('ECONNREFUSED');
      // The same program outside a namespace reaches the server: the difference is the namespace.
      const outside = spawn(process.execPath, [script], { stdio: 'pipe' });
      let direct = '';
      outside.stdout.on('data', (chunk: Buffer) => {
        direct += chunk.toString();
      });
      await once(outside, 'exit');
      expect(direct).toBe('connected');
    },
  );
});

describe('secrets', () => {
  it('are redacted from what the plugin returns, throws and logs', async () => {
    const logs: string[] = [];
    const sandbox = await startSandboxedPlugin({
      dir: fixture('probe-plugin'),
      entry: 'index.ts',
      permissions: { secrets: ['WEATHER_KEY'] },
      secrets: { WEATHER_KEY: 'wk-secret-123' },
      onLog: (entry) => logs.push(entry.message),
    });
    running.push(sandbox);
    expect(await sandbox.call('leak', { fail: false })).toEqual({ said: 'the key is [REDACTED]' });
    await expect(sandbox.call('leak', { fail: true })).rejects.toThrow('failed with [REDACTED]');
    expect(logs).toEqual(['the key is [REDACTED]', 'the key is [REDACTED]']);
  });
});

describe('writes', () => {
  it('go nowhere by default, and only inside its directory with writeDir', async () => {
    const inside = join(fixture('probe-plugin'), 'scratch.txt');
    const outside = join(outsideDir, 'dropped.txt');
    const readOnly = await startSandboxedPlugin({
      dir: fixture('probe-plugin'),
      entry: 'index.ts',
      permissions: {},
    });
    running.push(readOnly);
    expect(await readOnly.call('write', { path: inside })).toEqual({
      ok: false,
      error: 'ERR_ACCESS_DENIED',
    });
    const writer = await startSandboxedPlugin({
      dir: fixture('probe-plugin'),
      entry: 'index.ts',
      permissions: { writeDir: true },
    });
    running.push(writer);
    expect(await writer.call('write', { path: outside })).toEqual({
      ok: false,
      error: 'ERR_ACCESS_DENIED',
    });
    try {
      expect(await writer.call('write', { path: inside })).toMatchObject({ ok: true });
      expect(readFileSync(inside, 'utf8')).toBe('written by the plugin');
    } finally {
      rmSync(inside, { force: true });
    }
  });
});

describe('a plugin process that crashes or hangs', () => {
  it('fails that call with a typed error, restarts, and answers the next call', async () => {
    const sandbox = await startSandboxedPlugin({
      dir: fixture('flaky-plugin'),
      entry: 'index.ts',
      permissions: {},
      timeouts: { callMs: 1_500 },
    });
    running.push(sandbox);
    // Host process ids: inside its PID namespace every process of the OS sandbox is pid 2.
    await sandbox.call('ok', {});
    const first = sandbox.pid();

    const crash = await sandbox.call('crash', {}).catch((error: unknown) => error);
    expect(crash).toBeInstanceOf(PluginCrashedError);
    expect(crash).toMatchObject({ code: 'plugin.crashed', plugin: '@fixtures/plugin-flaky' });
    await sandbox.call('ok', {});
    const second = sandbox.pid();
    expect(second).toBeDefined();
    expect(second).not.toBe(first);

    const hang = await sandbox.call('hang', {}).catch((error: unknown) => error);
    expect(hang).toBeInstanceOf(ToolTimeoutError);
    expect(hang).toMatchObject({ code: 'tool.timeout' });
    await sandbox.call('ok', {});
    expect(sandbox.pid()).not.toBe(second);
    expect(sandbox.restarts).toBe(2);
  });

  it('dies at its heap limit, which fails the call like a crash', async () => {
    const sandbox = await startSandboxedPlugin({
      dir: fixture('flaky-plugin'),
      entry: 'index.ts',
      permissions: {},
      heapMb: 64,
    });
    running.push(sandbox);
    await expect(sandbox.call('hoard', {})).rejects.toBeInstanceOf(PluginCrashedError);
    expect(await sandbox.call('ok', {})).toMatchObject({ ok: true });
  });

  it('refuses an entry outside the plugin directory and a reserved secret name', async () => {
    await expect(
      startSandboxedPlugin({
        dir: fixture('flaky-plugin'),
        entry: '../probe-plugin/index.ts',
        permissions: {},
      }),
    ).rejects.toMatchObject({ code: 'plugin.start_failed' });
    await expect(
      startSandboxedPlugin({
        dir: fixture('flaky-plugin'),
        entry: 'index.ts',
        permissions: { secrets: ['NODE_OPTIONS'] },
      }),
    ).rejects.toMatchObject({ code: 'plugin.start_failed' });
  });
});
