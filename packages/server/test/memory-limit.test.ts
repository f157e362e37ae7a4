import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCgroup } from '@parley/sandbox/cgroup';
import { afterAll, describe, expect, it } from 'vitest';
import { EMBEDDED_DATABASE_MEMORY, embeddedDatabaseMemoryWarning } from '../src/memory-limit.ts';
import { freePort } from './support/harness.ts';

/*
 * The warning a server on the embedded database prints before it opens it under too little
 * memory: its wording, then a real server in a real control group (the sandbox's, which also
 * reads the limit: packages/sandbox/test/cgroup-memory-limit.test.ts).
 */

const MB = 1024 * 1024;
const temp: string[] = [];

afterAll(async () => {
  for (const dir of temp) await rm(dir, { recursive: true, force: true });
});

describe('the warning for the embedded database', () => {
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

describe('a server on the embedded database under a memory limit', () => {
  it('says so before it creates the database, and still starts with enough for its peak', async () => {
    // 1,280 MB: below the warning's line for a first start, above what one was measured to need.
    const group = createCgroup({ memoryMb: 1_280, processes: 4_096 });
    if (!group?.memory)
      throw new Error('this test needs a cgroup memory controller (Linux, as root)');
    const dataDir = await mkdtemp(join(tmpdir(), 'parley-memory-'));
    temp.push(dataDir);
    const port = await freePort();
    const child = spawn(
      'sh',
      [
        '-c',
        `${group.procs.map((f) => `echo $$ > ${f}`).join(' && ')} && exec "$0" "$@"`,
        NODE,
        MAIN,
      ],
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
      group.release();
    }
  });
});
