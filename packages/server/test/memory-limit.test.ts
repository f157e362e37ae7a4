import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cgroupMemoryLimit,
  EMBEDDED_DATABASE_MEMORY,
  embeddedDatabaseMemoryWarning,
} from '../src/memory-limit.ts';
import { freePort } from './support/harness.ts';

/*
 * The memory limit a server runs under (cgroup v1 and v2 layouts, as the kernel writes them),
 * and the warning a server on the embedded database prints before it opens it under too
 * little: first from files laid out like /proc and /sys/fs/cgroup, then a real server in a
 * real control group.
 */

const MB = 1024 * 1024;
const NO_LIMIT_V1 = '9223372036854771712';
const temp: string[] = [];

afterAll(async () => {
  for (const dir of temp) await rm(dir, { recursive: true, force: true });
});

/** A fake `/proc/self/cgroup` and cgroup mount: `files` maps paths under the mount to contents. */
async function layout(self: string, files: Record<string, string>) {
  const dir = await mkdtemp(join(tmpdir(), 'parley-cgroup-'));
  temp.push(dir);
  const root = join(dir, 'sys');
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), `${text}\n`);
  }
  await writeFile(join(dir, 'self'), self);
  return { self: join(dir, 'self'), root };
}

describe('the memory limit from control groups', () => {
  it('is the smallest v1 limit on the group or above it; the unlimited value is none', async () => {
    const paths = await layout('5:cpu:/\n4:memory:/app/web\n0::/\n', {
      'memory/memory.limit_in_bytes': NO_LIMIT_V1,
      'memory/app/memory.limit_in_bytes': String(512 * MB),
      'memory/app/web/memory.limit_in_bytes': String(1024 * MB),
    });
    expect(cgroupMemoryLimit(paths)).toBe(512 * MB);
  });

  it("reads a container's own group at the mount point (v1 shows the host's path)", async () => {
    const paths = await layout('4:memory:/docker/0f3a\n', {
      'memory/memory.limit_in_bytes': String(640 * MB),
    });
    expect(cgroupMemoryLimit(paths)).toBe(640 * MB);
  });

  it('reads v2 memory.max along the path; "max" is no limit', async () => {
    const paths = await layout('0::/system.slice/parley.service\n', {
      'system.slice/parley.service/memory.max': 'max',
      'system.slice/memory.max': String(768 * MB),
    });
    expect(cgroupMemoryLimit(paths)).toBe(768 * MB);
  });

  it('is undefined without cgroups or without a limit', async () => {
    const none = await layout('0::/\n4:memory:/\n', {
      'memory/memory.limit_in_bytes': NO_LIMIT_V1,
    });
    expect(cgroupMemoryLimit(none)).toBeUndefined();
    expect(cgroupMemoryLimit({ self: join(none.root, 'absent'), root: none.root })).toBeUndefined();
  });

  it('warns only below what the embedded database is given room for, first start or later', () => {
    const { first, later } = EMBEDDED_DATABASE_MEMORY;
    expect(embeddedDatabaseMemoryWarning(undefined, true)).toBeUndefined();
    expect(embeddedDatabaseMemoryWarning(first.allowBytes, true)).toBeUndefined();
    expect(embeddedDatabaseMemoryWarning(later.allowBytes, false)).toBeUndefined();
    expect(embeddedDatabaseMemoryWarning(later.allowBytes, true)).toBe(
      "this process may use 1,024 MB (its cgroup's memory limit), and the embedded database needs ~1,100 MB for a moment while it creates its data directory: the system may stop the server. Allow 1,536 MB, or use PostgreSQL (PARLEY_DATABASE_URL).",
    );
    expect(embeddedDatabaseMemoryWarning(512 * MB, false)).toBe(
      "this process may use 512 MB (its cgroup's memory limit), and the embedded database needs ~800 MB for a moment while it starts: the system may stop the server. Allow 1,024 MB, or use PostgreSQL (PARLEY_DATABASE_URL).",
    );
  });
});

const NODE = new URL('../../../node_modules/.bin/node', import.meta.url).pathname;
const MAIN = new URL('../src/main.js', import.meta.url).pathname;

/** A new memory control group at the top of this machine's hierarchy (v1 or v2), as root. */
async function controlGroup(limitBytes: number) {
  const v1 = '/sys/fs/cgroup/memory';
  const v2 = '/sys/fs/cgroup';
  const name = `parley-test-${process.pid}-${Date.now()}`;
  if (existsSync(join(v1, 'memory.limit_in_bytes'))) {
    const dir = join(v1, name);
    await mkdir(dir);
    await writeFile(join(dir, 'memory.limit_in_bytes'), String(limitBytes));
    return dir;
  }
  if (!readFileSync(join(v2, 'cgroup.controllers'), 'utf8').includes('memory'))
    throw new Error('this test needs a cgroup memory controller (Linux, as root)');
  const dir = join(v2, name);
  await mkdir(dir);
  await writeFile(join(dir, 'memory.max'), String(limitBytes));
  return dir;
}

describe('a server on the embedded database under a memory limit', () => {
  it('says so before it creates the database, and still starts with enough for its peak', async () => {
    // 1,280 MB: below the warning's line for a first start, above what one was measured to need.
    const group = await controlGroup(1_280 * MB);
    const dataDir = await mkdtemp(join(tmpdir(), 'parley-memory-'));
    temp.push(dataDir);
    const port = await freePort();
    const child = spawn(
      'sh',
      ['-c', `echo $$ > ${join(group, 'cgroup.procs')} && exec "$0" "$@"`, NODE, MAIN],
      {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? tmpdir(),
          PARLEY_DATA_DIR: dataDir,
          PARLEY_PORT: String(port),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      const listening = await new Promise<boolean>((resolve) => {
        child.stdout.on('data', () => stdout.includes('Parley listening') && resolve(true));
        child.once('exit', () => resolve(false));
      });
      expect({ listening, stderr }).toEqual({
        listening: true,
        stderr: expect.stringContaining(
          "parley: warning: this process may use 1,280 MB (its cgroup's memory limit), and the embedded database needs ~1,100 MB for a moment while it creates its data directory",
        ),
      });
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await exited;
      await rmdir(group);
    }
  });
});
