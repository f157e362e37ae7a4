import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryLimit } from '../src/os/cgroup.ts';

/*
 * The memory limit a process runs under, read from files laid out as the kernel writes
 * /proc/self/cgroup and /sys/fs/cgroup (v1 and v2). The server's warning under too little for
 * the embedded database, with a real control group: packages/server/test/memory-limit.test.ts.
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
    expect(memoryLimit(paths)).toBe(512 * MB);
  });

  it("reads a container's own group at the mount point (v1 shows the host's path)", async () => {
    const paths = await layout('4:memory:/docker/0f3a\n', {
      'memory/memory.limit_in_bytes': String(640 * MB),
    });
    expect(memoryLimit(paths)).toBe(640 * MB);
  });

  it('reads v2 memory.max along the path; "max" is no limit', async () => {
    const paths = await layout('0::/system.slice/parley.service\n', {
      'system.slice/parley.service/memory.max': 'max',
      'system.slice/memory.max': String(768 * MB),
    });
    expect(memoryLimit(paths)).toBe(768 * MB);
  });

  it('is undefined without cgroups or without a limit', async () => {
    const none = await layout('0::/\n4:memory:/\n', {
      'memory/memory.limit_in_bytes': NO_LIMIT_V1,
    });
    expect(memoryLimit(none)).toBeUndefined();
    expect(memoryLimit({ self: join(none.root, 'absent'), root: none.root })).toBeUndefined();
  });
});
