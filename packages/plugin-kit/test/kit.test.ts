import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type KitResult, KitResultSchema, runKit } from '../src/index.ts';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}/`, import.meta.url));
const repo = (path: string) => fileURLToPath(new URL(`../../../${path}/`, import.meta.url));

const failed = (result: KitResult) =>
  result.checks.filter((c) => c.status === 'fail').map((c) => c.id);
const message = (result: KitResult, id: string) =>
  result.checks.find((c) => c.id === id)?.message ?? `(no check ${id})`;

describe('the kit passes good plugins', () => {
  it('plugin-basics: every check passes, every tool called', async () => {
    const result = await runKit(repo('plugins/plugin-basics'));
    expect(KitResultSchema.parse(result)).toEqual(result);
    expect(failed(result)).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.plugin).toMatchObject({ name: '@parley/plugin-basics', version: '0.1.0' });
    for (const tool of ['current_time', 'calculator', 'remember', 'recall'])
      expect(result.checks.map((c) => c.id)).toContain(`sample-calls.${tool}`);
  });

  it('plugin-http, built from its factory with a config, fetches a declared host (a stand-in)', async () => {
    const result = await runKit(repo('plugins/plugin-http'), {
      config: { allow: ['example.com'] },
    });
    expect(failed(result)).toEqual([]);
    expect(message(result, 'sample-calls.http_get')).toContain('https://example.com/');
  });

  it('a plugin using only what it declared, and writing inside its own directory, passes', async () => {
    const result = await runKit(fixture('good-declared-access'));
    expect(failed(result)).toEqual([]);
    expect(message(result, 'sample-calls.forecast')).toContain('returned');
    expect(message(result, 'lifecycle.stop:webhook')).toBe('webhook stopped');
    expect(message(result, 'isolation.audit')).toBe('the sandbox denied nothing');
  });

  it('plugin-http without a config fails to load and says how to give one', async () => {
    const result = await runKit(repo('plugins/plugin-http'));
    expect(result.ok).toBe(false);
    expect(message(result, 'manifest.load')).toMatch(/--config/);
  });
});

describe('the kit catches each kind of violation', () => {
  const cases: { fixture: string; fails: string[]; says: RegExp }[] = [
    {
      fixture: 'bad-unbounded-range',
      fails: ['manifest.peer-range', 'manifest.core-range', 'manifest.host'],
      says: /no upper bound/,
    },
    {
      fixture: 'bad-identity',
      fails: ['manifest.identity'],
      says: /name @parley\/plugin-basics \(package.json: @fixtures\/bad-identity\) and version 9\.9\.9/,
    },
    {
      fixture: 'bad-permissions',
      fails: ['manifest.permissions', 'manifest.host'],
      says: /network\.0 "https:\/\/api\.example\.com\/v1" is not a host, host:port or \*\.domain; secrets\.0 "api-key" is not an UPPER_SNAKE_CASE secret name/,
    },
    {
      fixture: 'bad-undeclared-secret',
      fails: ['sample-calls.peek', 'access.secrets'],
      says: /OTHER_API_KEY/,
    },
    {
      fixture: 'bad-undeclared-host',
      fails: ['sample-calls.exfiltrate', 'access.network'],
      says: /collector\.undeclared\.example/,
    },
    {
      fixture: 'bad-direct-network',
      fails: ['access.network'],
      says: /direct\.undeclared\.example/,
    },
    {
      fixture: 'bad-tool-schema',
      fails: ['tools.schema:undescribed', 'tools.schema:schemaless'],
      says: /description|schema/,
    },
    { fixture: 'bad-failing-sample', fails: ['sample-calls.divide'], says: /TypeError/ },
    {
      fixture: 'bad-lifecycle-throws',
      fails: ['lifecycle.start:poller'],
      says: /cannot reach the queue/,
    },
    {
      fixture: 'bad-lifecycle-hangs',
      fails: ['lifecycle.start:gateway'],
      says: /did not finish within/,
    },
    { fixture: 'bad-blocks-process', fails: ['lifecycle.process'], says: /killed/ },
    // Out of process, @parley/sandbox denies (and audits) what the in-process probe saw.
    {
      fixture: 'bad-write-outside',
      fails: ['access.fs', 'isolation.audit'],
      says: /parley-kit-escape\.txt[\s\S]*fs FileSystemWrite:\/tmp\/parley-kit-escape\.txt/,
    },
    {
      fixture: 'bad-env-read',
      fails: ['access.env', 'isolation.audit'],
      says: /GITHUB_TOKEN, HOME[\s\S]*env GITHUB_TOKEN, env HOME/,
    },
  ];

  it.each(cases)('$fixture', async ({ fixture: name, fails, says }) => {
    const result = await runKit(fixture(name), { stepTimeoutMs: 1_000 });
    expect(KitResultSchema.parse(result)).toEqual(result);
    expect(result.ok).toBe(false);
    expect(failed(result)).toEqual(fails);
    expect(fails.map((id) => message(result, id)).join('\n')).toMatch(says);
  });

  it('the refused write never happened', () => {
    expect(existsSync('/tmp/parley-kit-escape.txt')).toBe(false);
  });
});
