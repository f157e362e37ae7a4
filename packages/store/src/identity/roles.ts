import {
  ALL_PERMISSIONS,
  INVITABLE_ROLES,
  type InvitableRole,
  PERMISSIONS,
  type Permission,
  ROLE_PERMISSIONS as ROLE_PERMISSION_LISTS,
  WORKSPACE_ROLES,
  type WorkspaceRole,
} from '@parley/protocol';
import { z } from 'zod';

/*
 * Who may do what inside a workspace. The table itself is @parley/protocol's (the dashboard
 * reads the same one); the server checks it before calling the store, and row-level security
 * separately guarantees that whatever is done stays inside the workspace. docs/identity.md
 * shows this matrix and a test keeps the two equal.
 */

export {
  ALL_PERMISSIONS,
  INVITABLE_ROLES,
  type InvitableRole,
  PERMISSIONS,
  type Permission,
  WORKSPACE_ROLES,
  type WorkspaceRole,
};
export const WorkspaceRoleSchema = z.enum(WORKSPACE_ROLES);
export const PermissionSchema = z.enum(ALL_PERMISSIONS as [Permission, ...Permission[]]);

/** The table as sets, for the checks on every request. */
export const ROLE_PERMISSIONS: Readonly<Record<WorkspaceRole, ReadonlySet<Permission>>> = {
  owner: new Set(ROLE_PERMISSION_LISTS.owner),
  admin: new Set(ROLE_PERMISSION_LISTS.admin),
  developer: new Set(ROLE_PERMISSION_LISTS.developer),
  viewer: new Set(ROLE_PERMISSION_LISTS.viewer),
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
