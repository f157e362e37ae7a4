import { describe, expect, it } from 'vitest';
import {
  ALL_PERMISSIONS,
  effectivePermissions,
  ROLE_PERMISSIONS,
  roleAllows,
  WORKSPACE_ROLES,
} from './roles.ts';

describe('workspace roles', () => {
  it('are strictly ordered: each role may do everything the one below it may', () => {
    const [owner, admin, developer, viewer] = WORKSPACE_ROLES.map((r) => ROLE_PERMISSIONS[r]);
    for (const [upper, lower] of [
      [owner!, admin!],
      [admin!, developer!],
      [developer!, viewer!],
    ] as const) {
      for (const p of lower) expect(upper.has(p), p).toBe(true);
      expect(upper.size).toBeGreaterThan(lower.size);
    }
    expect(owner!.size).toBe(ALL_PERMISSIONS.length);
  });

  it('keep the sensitive actions for the top roles', () => {
    expect(roleAllows('owner', 'workspace:delete')).toBe(true);
    expect(roleAllows('admin', 'workspace:delete')).toBe(false);
    expect(roleAllows('developer', 'tokens:manage')).toBe(false);
    expect(roleAllows('developer', 'secrets:write')).toBe(true);
    expect(roleAllows('viewer', 'secrets:write')).toBe(false);
    expect(roleAllows('viewer', 'audit:read')).toBe(false);
  });

  it('give a token the intersection of its scopes and its creator’s current role', () => {
    expect([
      ...effectivePermissions({ role: 'developer', scopes: ['agents:read', 'tokens:manage'] }),
    ]).toEqual(['agents:read']);
    expect([...effectivePermissions({ role: null, scopes: ['agents:read'] })]).toEqual([]);
    expect([...effectivePermissions({ scopes: ['runs:read', 'not:a-scope'] })]).toEqual([
      'runs:read',
    ]);
    expect(effectivePermissions({ role: 'viewer' })).toEqual(new Set(ROLE_PERMISSIONS.viewer));
  });
});
