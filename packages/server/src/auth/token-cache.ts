import { createHash } from 'node:crypto';
import type { Principal } from './principal.ts';

type TokenPrincipal = Extract<Principal, { kind: 'token' }>;

/**
 * Remembers a successful token check for a few seconds, so a client streaming many requests
 * does not pay two database transactions each time. Bounded in size; keyed by the token's
 * SHA-256, never the token. An entry is used only from the same address (a new address goes to
 * the database, which notices it). Revoking a token or changing a member's role clears the
 * cache of this process at once; other server processes see the change within `ttlMs`.
 */
export function createTokenCache(
  options: { ttlMs?: number; maxEntries?: number; now?: () => number } = {},
) {
  const ttlMs = options.ttlMs ?? 10_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, { principal: TokenPrincipal; ip: string; until: number }>();
  const keyOf = (token: string) => createHash('sha256').update(token).digest('base64url');
  return {
    get(token: string, ip: string): TokenPrincipal | undefined {
      const key = keyOf(token);
      const entry = entries.get(key);
      if (!entry) return undefined;
      const t = now();
      if (entry.until <= t || entry.principal.expiresAt.getTime() <= t || entry.ip !== ip) {
        entries.delete(key);
        return undefined;
      }
      return entry.principal;
    },
    set(token: string, ip: string, principal: TokenPrincipal) {
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
      entries.set(keyOf(token), { principal, ip, until: now() + ttlMs });
    },
    clear() {
      entries.clear();
    },
  };
}

export type TokenCache = ReturnType<typeof createTokenCache>;
