import type { WorkspaceRole } from '@parley/store';
import type { Principal } from '../auth/principal.ts';

/**
 * The caller's role in the workspace: a session's own, or the current role of a token's
 * creator (so a token cannot do what only an owner may unless an owner made it).
 */
export async function callerRole(
  principal: Principal,
  sessionRole: WorkspaceRole | undefined,
  members: { get(userId: string): Promise<{ role: string } | null> },
): Promise<string | undefined> {
  if (principal.kind !== 'token') return sessionRole;
  return principal.userId ? (await members.get(principal.userId))?.role : undefined;
}
