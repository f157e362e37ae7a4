import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ALL_PERMISSIONS,
  API_TOKEN_PREFIX,
  MAX_TOKEN_LIFETIME_MS,
  PERMISSIONS,
  ROLE_PERMISSIONS,
  STORE_AUDIT_ACTIONS,
  STORE_ERROR_CODES,
  WORKSPACE_ROLES,
} from '../src/index.ts';
import { schema } from '../src/internal.ts';

// docs/identity.md is the identity RFC people build on; these tests keep it equal to the code.
const doc = readFileSync(new URL('../../../docs/identity.md', import.meta.url), 'utf8');
// Every migration that defines SECURITY DEFINER functions.
const security = [
  '0001_security.sql',
  '0004_trust.sql',
  '0011_channel_workspaces.sql',
  '0015_event_log_cascade.sql',
]
  .map((file) => readFileSync(new URL(`../drizzle/${file}`, import.meta.url), 'utf8'))
  .join('\n');

function tableRow(first: string): string[] | undefined {
  const line = doc.split('\n').find((l) => l.startsWith(`| \`${first}\` |`));
  return line
    ?.split('|')
    .slice(1, -1)
    .map((c) => c.trim());
}

describe('docs/identity.md matches @parley/store', () => {
  it('shows the role matrix exactly as the code grants it', () => {
    const header = doc.split('\n').find((l) => l.startsWith('| permission |'));
    expect(header).toBe(`| permission | ${WORKSPACE_ROLES.join(' | ')} | what it allows |`);
    for (const permission of ALL_PERMISSIONS) {
      const row = tableRow(permission);
      expect(row, permission).toBeDefined();
      const cells = row!.slice(1, 1 + WORKSPACE_ROLES.length);
      expect(cells, permission).toEqual(
        WORKSPACE_ROLES.map((role) => (ROLE_PERMISSIONS[role].has(permission) ? '✓' : '·')),
      );
      expect(row![1 + WORKSPACE_ROLES.length], permission).toBe(PERMISSIONS[permission]);
    }
    const documented = doc.match(/^\| `[a-z]+:[a-z]+` \|/gm) ?? [];
    expect(documented).toHaveLength(ALL_PERMISSIONS.length);
  });

  it('lists every workspace table', () => {
    const tables = Object.values(schema)
      .filter(
        (t): t is typeof schema.agents => typeof t === 'object' && t !== null && 'workspaceId' in t,
      )
      .map((t) => (t as unknown as Record<symbol, string>)[Symbol.for('drizzle:Name')]);
    expect(tables.length).toBeGreaterThan(10);
    for (const table of [...tables, 'workspaces']) expect(tableRow(table!), table).toBeDefined();
  });

  it('lists exactly the SECURITY DEFINER functions of the migrations', () => {
    const defined = [...security.matchAll(/CREATE FUNCTION public\.(\w+)/g)]
      .map((m) => m[1]!)
      .sort();
    const documented = (doc.match(/^\| `parley_\w+` \|/gm) ?? []).map((l) => l.slice(3, -3)).sort();
    expect(documented).toEqual(defined);
  });

  it('names every action the store audits', () => {
    for (const action of STORE_AUDIT_ACTIONS) expect(doc, action).toContain(`\`${action}\``);
  });

  it('documents every error code with its status', () => {
    for (const [code, { status }] of Object.entries(STORE_ERROR_CODES)) {
      expect(tableRow(code)?.[1], code).toBe(String(status));
    }
  });

  it('states the token format and limits the code enforces', () => {
    expect(doc).toContain(
      `\`${API_TOKEN_PREFIX}\` + 30 random base62 characters + a 6-character base62 CRC32 checksum`,
    );
    expect(MAX_TOKEN_LIFETIME_MS / 86_400_000).toBe(366);
    expect(doc).toContain('at most 366 days ahead');
    expect(doc).toContain('PARLEY_MULTI_USER');
    expect(doc).toContain('PARLEY_MASTER_KEY');
  });
});
