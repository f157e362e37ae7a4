import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError } from '../src/io.ts';
import { projectEnv } from '../src/project.ts';
import { resolveTarget } from '../src/target.ts';
import { readUserConfig, userConfigPath } from '../src/user-config.ts';
import { parley, type TestIo, testIo } from './support/io.ts';

/*
 * What the CLI reads before it talks to a server: the config `parley login` writes, a local
 * server's `.parley/credentials`, PARLEY_SERVER / PARLEY_TOKEN / PARLEY_WORKSPACE, the flags
 * and a project's `.env`. Whatever they hold, the CLI either uses them or says in one line
 * what is wrong: never an unexpected error with a stack trace.
 *
 * No network: every server URL these tests can produce is either not an http(s) URL or a
 * closed port on loopback (127.0.0.1:9, where nothing listens).
 */

const CLOSED = 'http://127.0.0.1:9';

/** Strings that are no http(s) URL (so nothing is ever resolved through DNS). */
const notAUrl = fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => {
  try {
    return !/^https?:$/.test(new URL(s).protocol);
  } catch {
    return true;
  }
});
const serverish = fc.oneof(
  fc.constantFrom(
    CLOSED,
    `${CLOSED}/`,
    'HTTP://127.0.0.1:9/x?y#z',
    'file:///etc/passwd',
    'javascript:alert(1)',
  ),
  notAUrl,
);
const tokenish = fc.oneof(
  fc.constantFrom('prl_abc', '', 'prl_\nx', 'tok\u00e9n', ' '),
  fc.string({ unit: 'binary', maxLength: 30 }),
);
const anyJson = fc.jsonValue({ maxDepth: 4 });

/** The contents of ~/.config/parley/config.json: near the real shape, or anything at all. */
const configText = fc.oneof(
  fc
    .record(
      {
        current: fc.oneof(serverish, anyJson),
        servers: fc.oneof(
          fc.dictionary(
            fc.oneof(serverish, fc.constantFrom('__proto__', 'constructor')),
            fc.oneof(
              fc.record(
                { token: fc.oneof(tokenish, anyJson), workspaceId: fc.oneof(fc.string(), anyJson) },
                { requiredKeys: [] },
              ),
              anyJson,
            ),
            { maxKeys: 3 },
          ),
          anyJson,
        ),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  anyJson.map((v) => JSON.stringify(v)),
  fc.string({ unit: 'binary', maxLength: 200 }),
);

/** The contents of .parley/credentials: near the real shape, or anything at all. */
const credentialsText = fc.oneof(
  fc
    .record(
      {
        server: fc.oneof(serverish, anyJson),
        token: fc.oneof(tokenish, anyJson),
        workspaceId: fc.oneof(fc.constantFrom('w1', ''), anyJson),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc.string({ unit: 'binary', maxLength: 120 }),
);

const setting = {
  config: fc.option(configText, { nil: undefined }),
  credentials: fc.option(credentialsText, { nil: undefined }),
  server: fc.option(serverish, { nil: undefined }),
  token: fc.option(tokenish, { nil: undefined }),
  flagServer: fc.option(serverish, { nil: undefined }),
  flagToken: fc.option(tokenish, { nil: undefined }),
};
type Setting = { [K in keyof typeof setting]: string | undefined };

let root: string;
let n = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'parley-cli-fuzz-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh home and project directory holding the given files and environment. */
async function arrange(s: Setting): Promise<TestIo> {
  const cwd = join(root, `p${n++}`);
  await mkdir(join(cwd, '.parley'), { recursive: true });
  const io = await testIo({
    cwd,
    env: { PARLEY_SERVER: s.server, PARLEY_TOKEN: s.token, PARLEY_WORKSPACE: 'w1' },
  });
  if (s.config !== undefined) {
    await mkdir(join(io.env.XDG_CONFIG_HOME!, 'parley'), { recursive: true });
    await writeFile(userConfigPath(io), s.config);
  }
  if (s.credentials !== undefined)
    await writeFile(join(cwd, '.parley', 'credentials'), s.credentials);
  return io;
}

/** A CliError is a one-line message, no stack, no JavaScript error names. */
function expectCliError(error: unknown): void {
  if (!(error instanceof CliError)) throw error;
  expect(error.message.trim()).not.toBe('');
  expect(error.message).not.toMatch(/\n\s+at |TypeError|SyntaxError|ReferenceError|undefined/);
  expect([1, 2]).toContain(error.exitCode);
}

describe('the CLI config, fed arbitrary files', () => {
  it('reads ~/.config/parley/config.json into servers with tokens, or names the file and says what to do', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          configText,
          fc.uint8Array({ maxLength: 100 }).map((b) => Buffer.from(b).toString('latin1')),
        ),
        async (text) => {
          const io = await arrange({ config: text } as Setting);
          try {
            const config = await readUserConfig(io);
            for (const saved of Object.values(config.servers))
              expect(typeof saved.token).toBe('string');
            expect(Object.getPrototypeOf(config.servers)).toBe(Object.prototype);
          } catch (error) {
            expectCliError(error);
            expect((error as Error).message).toContain(userConfigPath(io));
            expect((error as Error).message).toMatch(/delete it and log in again/);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps a missing config an empty one, and a saved one as written', async () => {
    const io = await arrange({} as Setting);
    expect(await readUserConfig(io)).toEqual({ servers: {} });
    const saved = { current: CLOSED, servers: { [CLOSED]: { token: 'prl_x', workspaceId: 'w1' } } };
    const io2 = await arrange({ config: JSON.stringify(saved) } as Setting);
    expect(await readUserConfig(io2)).toEqual(saved);
  });

  it('refuses a config it cannot use instead of reading it as empty (the next login would drop every other server)', async () => {
    const text = JSON.stringify({
      current: CLOSED,
      servers: { [CLOSED]: { token: 'prl_x' }, 'https://other.example': { token: 42 } },
    });
    const io = await arrange({ config: text } as Setting);
    const error = await readUserConfig(io).catch((e: unknown) => e);
    expectCliError(error);
    expect((error as Error).message).toBe(
      `${userConfigPath(io)} is not a Parley config (servers["https://other.example"].token: expected string): fix it, or delete it and log in again.`,
    );
    const { code, stderr } = await parley(['token', 'list'], io);
    expect(code).toBe(1);
    expect(stderr).toContain('is not a Parley config');
  });

  it('takes only http(s) servers, wherever they come from', async () => {
    for (const server of ['file:///etc/passwd', 'javascript:alert(1)', 'ftp://127.0.0.1']) {
      const io = await arrange({ server } as Setting);
      const error = await resolveTarget({ token: 'prl_x' }, io).catch((e: unknown) => e);
      expectCliError(error);
      expect((error as Error).message).toContain('is not a server URL');
    }
    // A local server's credentials naming no server URL are skipped, not a crash.
    const io = await arrange({
      credentials: JSON.stringify({ server: 42, token: 'prl_x', workspaceId: 'w1' }),
    } as Setting);
    const target = await resolveTarget({ server: CLOSED, token: 'prl_y' }, io);
    expect(target).toMatchObject({ server: CLOSED, token: 'prl_y', source: '--token' });
  });

  it('resolves flags, environment, credentials and config into an http(s) server and a token, or a one-line error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.record(setting), async (s) => {
        const io = await arrange(s);
        try {
          const target = await resolveTarget({ server: s.flagServer, token: s.flagToken }, io);
          expect(target.server).toMatch(/^https?:\/\/[^/]+$/);
          expect(typeof target.token).toBe('string');
          expect(target.token).not.toBe('');
          expect(target.workspaceId).toBe('w1');
        } catch (error) {
          expectCliError(error);
        }
      }),
      { numRuns: 250 },
    );
  });

  it('runs a command over any of them and ends with a one-line message, never an unexpected error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.record(setting), async (s) => {
        const io = await arrange(s);
        const flags = [
          ...(s.flagServer !== undefined ? ['--server', s.flagServer] : []),
          ...(s.flagToken !== undefined ? ['--token', s.flagToken] : []),
        ];
        const { code, stderr } = await parley(['token', 'list', ...flags], io);
        // Nothing listens on CLOSED: at best the server cannot be reached.
        expect(code).not.toBe(0);
        expect(stderr).toMatch(/^parley: /);
        expect(stderr).not.toMatch(/unexpected error|\n\s+at /);
      }),
      { numRuns: 120 },
    );
  });

  it('reads any .env as string values, the shell winning over the file', async () => {
    const envText = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc
        .array(
          fc.tuple(
            fc.constantFrom(
              'A',
              'KEY_1',
              'export B',
              ' C ',
              '#D',
              '__proto__',
              'constructor',
              '1X',
            ),
            fc.constantFrom('=', ' = ', ':'),
            fc.string({ maxLength: 20 }),
          ),
          { maxLength: 8 },
        )
        .map((lines) => lines.map((l) => l.join('')).join('\n')),
    );
    await fc.assert(
      fc.asyncProperty(envText, async (text) => {
        const io = await arrange({} as Setting);
        io.env.A = 'from the shell';
        await writeFile(join(io.cwd, '.env'), text);
        const values = projectEnv(io);
        for (const [k, v] of Object.entries(values)) {
          expect(k).toMatch(/^[A-Za-z_][A-Za-z0-9_.-]*$/);
          expect(typeof v).toBe('string');
        }
        if ('A' in values) expect(values.A).toBe('from the shell');
      }),
      { numRuns: 200 },
    );
  });
});
