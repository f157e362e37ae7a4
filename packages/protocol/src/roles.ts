/*
 * Who may do what inside a workspace: the one role/permission table. The server checks it
 * before calling the store (the store builds its lookup sets from it); the dashboard hides what
 * it would refuse. docs/identity.md shows this matrix and a store test keeps the two equal.
 * Plain data (no zod, no Node): the dashboard bundles it.
 */

export const WORKSPACE_ROLES = ['owner', 'admin', 'developer', 'viewer'] as const;
export type WorkspaceRole = (typeof WORKSPACE_ROLES)[number];

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

const viewer: readonly Permission[] = [
  'workspace:read',
  'members:read',
  'secrets:read',
  'agents:read',
  'runs:read',
  'memories:read',
];
const developer: readonly Permission[] = [
  ...viewer,
  'secrets:write',
  'agents:write',
  'agents:deploy',
  'runs:create',
  'runs:cancel',
  'memories:write',
];
const admin: readonly Permission[] = [
  ...developer,
  'workspace:manage',
  'members:manage',
  'tokens:manage',
  'audit:read',
];

/** Each role's permissions; an owner has every one. */
export const ROLE_PERMISSIONS: Readonly<Record<WorkspaceRole, readonly Permission[]>> = {
  owner: ALL_PERMISSIONS,
  admin,
  developer,
  viewer,
};
