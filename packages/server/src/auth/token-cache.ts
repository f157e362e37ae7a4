import { createHash } from 'node:crypto';
import type { ApiTokenAuthResult } from '@parley/store';
import { createInFlight } from '../caches/in-flight.ts';
import type { Principal } from './principal.ts';

type TokenPrincipal = Extract<Principal, { kind: 'token' }>;

/** What checking a token against the database found. */
export type TokenCheck =
  | { ok: true; principal: TokenPrincipal }
  | Extract<ApiTokenAuthResult, { ok: false }>;

/**
 * Remembers a successful token check for a few seconds, so a client streaming many requests
 * does not pay two database transactions each time. Bounded in size; keyed by the token's
 * SHA-256, never the token. An entry is used only from the same address (a new address goes to
 * the database, which notices it).
 *
 * - A check is made once however many requests with the same token and address ask meanwhile:
 *   when an entry ran out under 50 open streams, every one of them used to queue its own
 *   check behind the others (on PGlite, one worker serves them all).
 * - An entry in use is checked again in the background during its last `refreshMs`, so busy
 *   clients do not all wait at once when it runs out. It is never served past `ttlMs`.
 * - Revoking a token or changing a member's role clears the cache of this process at once, and
 *   a check under way during that change is neither kept nor shared with later requests
 *   (generations). Other instances of a cluster clear theirs when the bus brings the news
 *   (cluster/invalidation.ts, milliseconds); `ttlMs` bounds it only if a message is lost
 *   without the bus noticing.
 */
export function createTokenCache(
  options: { ttlMs?: number; refreshMs?: number; maxEntries?: number; now?: () => number } = {},
) {
  const ttlMs = options.ttlMs ?? 10_000;
  const refreshMs = options.refreshMs ?? ttlMs / 5;
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, { principal: TokenPrincipal; ip: string; until: number }>();
  /** Checks under way, by generation, token hash and address. */
  const checks = createInFlight<TokenCheck>();
  let generation = 0;
  const keyOf = (token: string) => createHash('sha256').update(token).digest('base64url');

  function keep(key: string, ip: string, result: TokenCheck, startedIn: number) {
    if (startedIn !== generation) return;
    if (!result.ok) {
      if (entries.get(key)?.ip === ip) entries.delete(key);
      return;
    }
    if (!entries.has(key) && entries.size >= maxEntries)
      entries.delete(entries.keys().next().value!);
    entries.set(key, { principal: result.principal, ip, until: now() + ttlMs });
  }

  /** The check under way for this token and address in this generation, or a new one. */
  function checkOnce(key: string, ip: string, verify: () => Promise<TokenCheck>) {
    const startedIn = generation;
    return checks.join(`${generation}\u0000${key}\u0000${ip}`, async () => {
      const result = await verify();
      keep(key, ip, result, startedIn);
      return result;
    });
  }

  return {
    /** The token's principal from the cache, or from `verify()` (the database check). */
    check(token: string, ip: string, verify: () => Promise<TokenCheck>): Promise<TokenCheck> {
      const key = keyOf(token);
      const entry = entries.get(key);
      const t = now();
      if (entry && entry.ip === ip && t < entry.until && t < entry.principal.expiresAt.getTime()) {
        // A failed background check leaves the entry to run out; a refusal drops it (keep).
        if (t >= entry.until - refreshMs) checkOnce(key, ip, verify).catch(() => {});
        return Promise.resolve({ ok: true, principal: entry.principal });
      }
      return checkOnce(key, ip, verify);
    },
    clear() {
      entries.clear();
      generation++;
    },
  };
}

export type TokenCache = ReturnType<typeof createTokenCache>;
