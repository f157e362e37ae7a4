import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * `parley --help`, `--version` and the light commands start without loading the server, the
 * store or the plugin kit (together ~200 MB and a second or more): those load when the command
 * that needs them runs. The modules each invocation loaded are recorded, not timed.
 */

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../bin/parley.mjs', import.meta.url));
const RECORDER = fileURLToPath(new URL('./support/record-imports.mjs', import.meta.url));
const HEAVY = [
  '/packages/server/',
  '/packages/store/',
  '/packages/plugin-kit/',
  '/packages/sandbox/',
];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-startup-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function loadedBy(args: string[]): Promise<string[]> {
  const file = join(dir, `${args.join('-').replace(/\W/g, '_')}.txt`);
  await run(process.execPath, ['--import', RECORDER, BIN, ...args], {
    env: { ...process.env, PARLEY_RECORD_IMPORTS: file, NO_COLOR: '1' },
    cwd: dir,
  }).catch((error: { code?: number }) => {
    // A usage error still counts: what matters is what it loaded.
    if (typeof error.code !== 'number') throw error;
  });
  return (await readFile(file, 'utf8')).split('\n').filter(Boolean);
}

describe('parley starts light', () => {
  it.each([
    ['--help'],
    ['--version'],
    ['plugin', '--help'],
    ['doctor', '--help'],
    ['token', '--help'],
  ])('parley %s loads neither the server, the store nor the plugin kit', async (...args) => {
    const loaded = await loadedBy(args);
    expect(loaded.some((url) => url.includes('/packages/cli/src/'))).toBe(true);
    expect(loaded.filter((url) => HEAVY.some((part) => url.includes(part)))).toEqual([]);
  });

  it('parley create writes a project without loading the server (its facts are the catalogue)', async () => {
    const loaded = await loadedBy([
      'create',
      'light',
      '--provider',
      'openai',
      '--yes',
      '--no-install',
    ]);
    expect(loaded.some((url) => url.includes('/packages/cli/src/commands/create.ts'))).toBe(true);
    expect(loaded.filter((url) => HEAVY.some((part) => url.includes(part)))).toEqual([]);
    expect(await readFile(join(dir, 'light', '.env.example'), 'utf8')).toContain('OPENAI_API_KEY');
  });

  it('loads the server when a command needs it (the recorder sees it)', async () => {
    const loaded = await loadedBy(['migrate', '--definitely-not-a-flag']);
    // An unknown flag is refused before the command runs: still light.
    expect(loaded.filter((url) => url.includes('/packages/server/'))).toEqual([]);
    const migrating = await loadedBy(['migrate']);
    expect(migrating.some((url) => url.includes('/packages/server/src/'))).toBe(true);
  });
});
