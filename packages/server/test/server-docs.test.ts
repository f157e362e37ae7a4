import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, loadConfig } from '../src/config.ts';

const doc = readFileSync(new URL('../../../docs/server.md', import.meta.url), 'utf8');

describe('docs/server.md', () => {
  it('lists exactly the settings the server reads, with the defaults it uses', () => {
    const documented = [...doc.matchAll(/^\| `(PARLEY_[A-Z_]+)` \| ([^|]+) \|/gm)].map((m) => ({
      name: m[1]!,
      fallback: m[2]!.trim(),
    }));
    expect(documented.map((d) => d.name).sort()).toEqual([...CONFIG_VARIABLES].sort());
    const defaults = loadConfig({});
    const shown = Object.fromEntries(documented.map((d) => [d.name, d.fallback]));
    expect(shown.PARLEY_HOST).toBe(`\`${defaults.host}\``);
    expect(shown.PARLEY_PORT).toBe(`\`${defaults.port}\``);
    expect(shown.PARLEY_MULTI_USER).toBe(defaults.multiUser ? '`1`' : '`0`');
    expect(shown.PARLEY_EVENT_LOG).toBe(defaults.eventLog ? '`1`' : '`0`');
    expect(shown.PARLEY_SHUTDOWN_GRACE_SECONDS).toBe(`\`${defaults.shutdownGraceMs / 1000}\``);
    expect(shown.PARLEY_LOG_LEVEL).toBe(`\`${defaults.logLevel}\``);
  });
});
