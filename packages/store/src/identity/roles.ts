import { z } from 'zod';

/*
 * Who may do what inside a workspace. The server checks these before calling the store;
 * row-level security separately guarantees that whatever is done stays inside the workspace.
 * docs/identity.md shows this matrix and a test keeps the two equal.
 */

export const WORKSPACE_ROLES = ['owner', 'admin', 'developer', 'viewer'] as const;
export type WorkspaceRole = (typeof WORKSPACE_ROLES)[number];
export const WorkspaceRoleSchema = z.enum(WORKSPACE_ROLES);

/** Roles an invitation may grant: ownership is handed over by an owner, never by invitation. */
export const INVITABLE_ROLES = ['admin', 'developer', 'viewer'] as const;
export type InvitableRole = (typeof INVITABLE_ROLES)[number];

/**
 * Every permission, as `resource:action`. API token scopes use the same strings: a token may
 * do what its scopes list *and* its creator's current role allows.
 */
export const PERMISSIONS = {
  'workspace:read': 'See the workspace name and settings.',
  'workspace:manage': 'Rename the workspace and change its settings.',
  'workspace:delete': 'Delete the workspace and everything in it.',
  'members:read': 'List members and pending invitations.',
  'members:manage': 'Invite, remove and change the role of members (not owners, unless owner).',
  'tokens:manage': "Create and revoke the workspace's API tokens.",
  'secrets:read': 'List secrets: names, last 4 characters and dates, never values.',
  'secrets:write': 'Create, replace and delete secrets (write-only: values are never shown).',
  'agents:read': 'See agents, their versions and definitions.',
  'agents:write': 'Create, edit and archive agents.',
  'agents:deploy': 'Deploy a new agent version.',
  'runs:read': 'See runs, their event logs, conversations and messages.',
  'runs:create': 'Start runs and conversations.',
  'runs:cancel': 'Cancel running runs.',
  'memories:read': "Read and search agents' memories.",
  'memories:write': 'Add, change and delete memories.',
  'audit:read': 'Read the audit log and security signals.',
} as const;
export type Permission = keyof typeof PERMISSIONS;
export const ALL_PERMISSIONS = Object.keys(PERMISSIONS) as Permission[];
export const PermissionSchema = z.enum(ALL_PERMISSIONS as [Permission, ...Permission[]]);

const viewer: Permission[] = [
  'workspace:read',
  'members:read',
  'secrets:read',
  'agents:read',
  'runs:read',
  'memories:read',
];
const developer: Permission[] = [
  ...viewer,
  'secrets:write',
  'agents:write',
  'agents:deploy',
  'runs:create',
  'runs:cancel',
  'memories:write',
];
const admin: Permission[] = [
  ...developer,
  'workspace:manage',
  'members:manage',
  'tokens:manage',
  'audit:read',
];

export const ROLE_PERMISSIONS: Readonly<Record<WorkspaceRole, ReadonlySet<Permission>>> = {
  owner: new Set(ALL_PERMISSIONS),
  admin: new Set(admin),
  developer: new Set(developer),
  viewer: new Set(viewer),
};

export function roleAllows(role: WorkspaceRole, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].has(permission);
}

/**
 * What a request may do. A session carries the member's role; a token carries its scopes and
 * the role its creator has *now* (so demoting or removing a member also narrows their tokens).
 * A token without a creator (a service token) is limited by its scopes alone.
 */
export function effectivePermissions(grant: {
  role?: WorkspaceRole | null;
  scopes?: readonly string[] | null;
}): Set<Permission> {
  const fromRole = grant.role ? ROLE_PERMISSIONS[grant.role] : undefined;
  if (grant.role === null) return new Set();
  if (!grant.scopes) return new Set(fromRole ?? []);
  const scoped = grant.scopes.filter((s): s is Permission => Object.hasOwn(PERMISSIONS, s));
  return new Set(fromRole ? scoped.filter((p) => fromRole.has(p)) : scoped);
}
