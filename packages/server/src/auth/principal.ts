import type { Permission, User } from '@parley/store';

/** Who is calling, established once per request from a bearer token or a session cookie. */
export type Principal =
  | { kind: 'anonymous' }
  | { kind: 'session'; user: User; sessionId: string }
  | {
      kind: 'token';
      tokenId: string;
      /** The one workspace a token may act in. */
      workspaceId: string;
      /** The person who created it (null for a service token). */
      userId: string | null;
      scopes: string[];
      /** Its scopes ∩ its creator's current role. */
      permissions: ReadonlySet<Permission>;
      expiresAt: Date;
    };

/** The store's actor for audit rows. */
export function actorOf(principal: Principal): { type: 'user' | 'token' | 'system'; id?: string } {
  switch (principal.kind) {
    case 'session':
      return { type: 'user', id: principal.user.id };
    case 'token':
      return { type: 'token', id: principal.tokenId };
    default:
      return { type: 'system' };
  }
}

/** The user behind the request, if any (a token's creator counts). */
export function userIdOf(principal: Principal): string | undefined {
  if (principal.kind === 'session') return principal.user.id;
  if (principal.kind === 'token') return principal.userId ?? undefined;
  return undefined;
}

/** `user:<id>` / `token:<id>`: who started a run, as runs record it. */
export function startedByOf(principal: Principal): string {
  if (principal.kind === 'session') return `user:${principal.user.id}`;
  if (principal.kind === 'token') return `token:${principal.tokenId}`;
  return 'system';
}
