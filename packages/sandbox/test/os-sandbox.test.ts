import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  escapingLinks,
  osSandboxStatus,
  prepareJailedProgram,
  REFUSED_SYSCALLS,
  startSandboxedPlugin,
} from '@parley/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seccompFilter } from '../src/os/seccomp.ts';

/*
 * The OS sandbox against a program that tries every way out a red team found (and more),
 * with no permission model of its own: only the namespaces, the mounts, seccomp and the limits
 * stand in its way. Each attempt is also made outside the sandbox, so every assertion below is
 * one the sandbox makes true. CI runs these as root on Debian, with bubblewrap installed.
 */

const hostile = fileURLToPath(new URL('./fixtures/hostile-mcp/hostile-mcp.mjs', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

// Host things the program must not reach: outside /tmp (the jail's /tmp is its own).
const secretDir = mkdtempSync('/var/tmp/parley-secret-');
writeFileSync(join(secretDir, 'master.key'), 'host secret');
const unixSocket = join(secretDir, 'db.sock');
const abstractName = `parley-test-${process.pid}-${Date.now()}`;
let tcp: NetServer;
let unix: NetServer;
let abstract: NetServer;
const connections: string[] = [];

const listen = async (server: NetServer, target: object) => {
  server.listen(target);
  await once(server, 'listening');
  return server;
};

beforeAll(async () => {
  const count = (name: string) => () => connections.push(name);
  tcp = await listen(createNetServer(count('tcp')), { host: '127.0.0.1', port: 0 });
  unix = await listen(createNetServer(count('unix')), { path: unixSocket });
  abstract = await listen(createNetServer(count('abstract')), { path: `\0${abstractName}` });
});
afterAll(() => {
  for (const server of [tcp, unix, abstract]) server?.close();
  rmSync(secretDir, { recursive: true, force: true });
});

type Outcome = { ok: boolean; error?: string; value?: unknown };
/** What the hostile program's `escape` answers (fixtures/hostile-mcp). */
type Escape = Record<
  | 'environ'
  | 'signal0'
  | 'sigkill'
  | 'debug'
  | 'dataDir'
  | 'shadow'
  | 'writeOwnDir'
  | 'writeUsr'
  | 'writeTmp'
  | 'runtimeLink'
  | 'fds'
  | 'processesSeen'
  | 'tcpHost'
  | 'tcpPublic'
  | 'unixPostgres'
  | 'abstractSocket'
  | 'syscalls',
  Outcome
> & { processes: { started: number; refused: number } };

/** Runs the hostile program's `escape` once, as `command args` (jailed or not), against `target`. */
function escapeAttempt(
  command: string,
  args: string[],
  env: Record<string, string>,
  target: number,
) {
  const input = {
    serverPid: target,
    dataDir: secretDir,
    hostPort: (tcp.address() as { port: number }).port,
    postgresSocket: unixSocket,
    abstractName,
    processes: 300,
  };
  const run = spawnSync(command, [...args, 'once', JSON.stringify(input)], {
    encoding: 'utf8',
    env,
    timeout: 60_000,
  });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as Escape;
}

/** A process the attempts may signal: standing in for the server, it must survive. */
function victim() {
  const child = spawn('/bin/sleep', ['60'], { stdio: 'ignore' });
  return child;
}

const available = osSandboxStatus().available;

describe('the OS sandbox', () => {
  it('is available on this host (CI: Debian, root, bubblewrap)', () => {
    expect(osSandboxStatus()).toMatchObject({ available: true, limits: 'cgroup' });
  });

  it.runIf(available)(
    'refuses a hostile program every way out, where the same program outside gets through',
    async () => {
      // Outside: the attempts work, so the assertions below can fail.
      const outsideVictim = victim();
      const outside = escapeAttempt(
        process.execPath,
        [hostile],
        { PATH: '/usr/bin:/bin' },
        outsideVictim.pid!,
      );
      expect(outside.environ.ok).toBe(true);
      expect(outside.dataDir).toMatchObject({ ok: true, value: ['db.sock', 'master.key'] });
      expect(outside.tcpHost.ok).toBe(true);
      expect(outside.unixPostgres.ok).toBe(true);
      expect(outside.abstractSocket.ok).toBe(true);
      expect(outside.sigkill.ok).toBe(true);
      await once(outsideVictim, 'exit');
      expect(outside.writeOwnDir.ok).toBe(true);
      rmSync(join(dirname(hostile), 'pwned'));
      connections.length = 0;

      const target = victim();
      const program = await prepareJailedProgram({
        command: process.execPath,
        args: [hostile],
        env: {},
      });
      try {
        const inside = escapeAttempt(program.command, program.args, program.env, target.pid!);
        // Its own PID namespace: the host's processes do not exist for it.
        expect(inside.environ).toEqual({ ok: false, error: 'ENOENT' });
        expect(inside.signal0).toEqual({ ok: false, error: 'ESRCH' });
        expect(inside.sigkill).toEqual({ ok: false, error: 'ESRCH' });
        expect(inside.debug).toEqual({ ok: false, error: 'ESRCH' });
        expect((inside.processesSeen.value as string[]).length).toBeLessThanOrEqual(3);
        // Its own mount namespace: only the runtime and its own package, read-only.
        expect(inside.dataDir).toEqual({ ok: false, error: 'ENOENT' });
        expect(inside.shadow).toEqual({ ok: false, error: 'ENOENT' });
        expect(inside.writeOwnDir).toEqual({ ok: false, error: 'EROFS' });
        expect(inside.writeUsr).toEqual({ ok: false, error: 'EROFS' });
        expect(inside.writeTmp.ok).toBe(true);
        expect(inside.runtimeLink).toEqual({ ok: false, error: 'ENOENT' });
        for (const fd of inside.fds.value as string[]) expect(fd).not.toContain(secretDir);
        // Its own network namespace: no host loopback, no route out, no host Unix sockets
        // (by path or abstract).
        expect(inside.tcpHost).toEqual({ ok: false, error: 'ECONNREFUSED' });
        expect(inside.tcpPublic).toEqual({ ok: false, error: 'ENETUNREACH' });
        expect(inside.unixPostgres).toEqual({ ok: false, error: 'ENOENT' });
        expect(inside.abstractSocket).toEqual({ ok: false, error: 'ECONNREFUSED' });
        expect(connections).toEqual([]);
        // seccomp: ptrace, io_uring, new namespaces, BPF and keyrings are refused (EPERM).
        expect(existsSync('/usr/bin/python3')).toBe(true);
        for (const call of Object.values(
          inside.syscalls.value as Record<string, { errno: number }>,
        ))
          expect(call).toEqual({ result: -1, errno: 1 });
        // A fork bomb stops at the process limit.
        expect(inside.processes.started).toBeLessThan(300);
        expect(inside.processes.refused).toBeGreaterThan(0);
        // And the stand-in for the server lives.
        expect(target.exitCode).toBeNull();
        expect(target.signalCode).toBeNull();
      } finally {
        target.kill();
        await program.close();
      }
    },
  );

  it.runIf(available)(
    'kills a program past its memory limit, which the same program outside survives',
    async () => {
      const hoard = [
        '-e',
        'const k=[]; for (let i=0;i<24;i++) k.push(Buffer.alloc(16*1024*1024,1)); console.log(k.length*16)',
      ];
      const outside = spawnSync(process.execPath, hoard, { encoding: 'utf8' });
      expect(outside.stdout.trim()).toBe('384');
      const program = await prepareJailedProgram({
        command: process.execPath,
        args: hoard,
        env: {},
        limits: { memoryMb: 128 },
      });
      try {
        const inside = spawnSync(program.command, program.args, {
          encoding: 'utf8',
          env: program.env,
        });
        expect(inside.stdout.trim()).toBe('');
        expect(inside.status).not.toBe(0);
      } finally {
        await program.close();
      }
    },
  );

  it('carries a seccomp filter that checks the architecture before any call number', () => {
    const filter = seccompFilter('x64');
    expect(filter.length % 8).toBe(0);
    // load arch; jeq AUDIT_ARCH_X86_64; kill; load nr
    expect(filter.readUInt16LE(0)).toBe(0x20);
    expect(filter.readUInt32LE(4)).toBe(4);
    expect(filter.readUInt32LE(12)).toBe(0xc000003e);
    expect(filter.readUInt32LE(20)).toBe(0x80000000);
    expect(filter.readUInt32LE(filter.length - 4)).toBe(0x7fff0000);
    expect(REFUSED_SYSCALLS).toEqual(
      expect.arrayContaining(['ptrace', 'io_uring_setup', 'bpf', 'unshare']),
    );
    expect(() => seccompFilter('ia32')).toThrow(/no seccomp filter/);
  });
});

describe('where the OS sandbox is unavailable', () => {
  it('says why, and community plugins and jailed programs are refused with what to do', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-nobwrap-'));
    chmodSync(dir, 0o755); // a root server runs bwrap as nobody
    // What bwrap answers on a host whose kernel forbids user namespaces.
    const stub = join(dir, 'bwrap');
    writeFileSync(
      stub,
      '#!/bin/sh\necho "bwrap: No permissions to creating new namespace" >&2\nexit 1\n',
      {
        mode: 0o755,
      },
    );
    const previous = process.env.PARLEY_BWRAP;
    process.env.PARLEY_BWRAP = stub;
    try {
      expect(osSandboxStatus()).toMatchObject({
        available: false,
        reason: expect.stringContaining('No permissions to creating new namespace'),
      });
      expect(osSandboxStatus(join(dir, 'missing'))).toMatchObject({
        available: false,
        reason: expect.stringContaining('does not exist'),
      });
      await expect(
        startSandboxedPlugin({ dir: fixture('probe-plugin'), entry: 'index.ts', permissions: {} }),
      ).rejects.toMatchObject({
        code: 'plugin.start_failed',
        message: expect.stringMatching(/cannot provide the OS sandbox.*PARLEY_SANDBOX=weak/),
      });
      await expect(
        prepareJailedProgram({ command: process.execPath, args: [], env: {} }),
      ).rejects.toMatchObject({ code: 'plugin.start_failed' });
      // The weak mode is an explicit choice, and then it runs.
      const weak = await startSandboxedPlugin({
        dir: fixture('probe-plugin'),
        entry: 'index.ts',
        permissions: {},
        isolation: 'weak',
      });
      expect(weak.isolation).toBe('weak');
      await weak.stop();
    } finally {
      if (previous === undefined) delete process.env.PARLEY_BWRAP;
      else process.env.PARLEY_BWRAP = previous;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a plugin package', () => {
  it('holding a link that leaves its directory is refused at load (links inside it are fine)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'parley-linked-'));
    const dir = join(root, 'plugin');
    cpSync(fixture('flaky-plugin'), dir, { recursive: true });
    symlinkSync('index.ts', join(dir, 'alias.ts'));
    symlinkSync('../plugin/package.json', join(dir, 'manifest.json'));
    expect(escapingLinks(dir)).toEqual([]);
    symlinkSync('/proc/self/environ', join(dir, 'environ'));
    symlinkSync('../../outside', join(dir, 'up'));
    expect(
      escapingLinks(dir)
        .map((link) => link.path)
        .sort(),
    ).toEqual(['environ', 'up']);
    await expect(
      startSandboxedPlugin({ dir, entry: 'index.ts', permissions: {}, isolation: 'auto' }),
    ).rejects.toMatchObject({
      code: 'plugin.start_failed',
      message: expect.stringContaining('environ -> /proc/self/environ'),
    });
    rmSync(root, { recursive: true, force: true });
  });
});
