import { and, desc, eq, gt, isNull, lt, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import { hashesEqual, parseSessionCookie, randomSecret, sha256Hex } from '../auth/tokens.ts';
import { notFound } from '../repositories/common.ts';
import { sessions, users } from '../schema/index.ts';
import { ipSchema, parse, parseId, text, uuidSchema } from '../validation.ts';
import type { SystemDeps } from './deps.ts';
import type { User } from './users.ts';

/** A session as shown: never its secret hash. */
export type Session = Omit<typeof sessions.$inferSelect, 'secretHash'>;

const DAY = 86_400_000;

const sessionColumns = {
  id: sessions.id,
  userId: sessions.userId,
  createdAt: sessions.createdAt,
  expiresAt: sessions.expiresAt,
  lastSeenAt: sessions.lastSeenAt,
  authenticatedAt: sessions.authenticatedAt,
  ip: sessions.ip,
  userAgent: sessions.userAgent,
  revokedAt: sessions.revokedAt,
};

const NewSessionSchema = z.object({
  userId: uuidSchema,
  ttlMs: z
    .number()
    .int()
    .min(60_000)
    .max(90 * DAY)
    .default(7 * DAY),
  ip: ipSchema.optional(),
  userAgent: text(1_000).optional(),
});
type NewSession = z.input<typeof NewSessionSchema>;

export function sessionsSystem(deps: SystemDeps) {
  return {
    /**
     * Starts a session after the server has verified the user. `cookie` (`<id>.<secret>`) goes
     * into an HttpOnly cookie; only the secret's SHA-256 is stored.
     */
    async create(input: NewSession): Promise<{ session: Session; cookie: string }> {
      const value = parse(NewSessionSchema, input, 'session');
      const secret = randomSecret();
      return deps.unscoped(async (tx) => {
        const [row] = await tx
          .insert(sessions)
          .values({
            userId: value.userId,
            secretHash: sha256Hex(secret),
            expiresAt: new Date(Date.now() + value.ttlMs),
            ip: value.ip ?? null,
            userAgent: value.userAgent ?? null,
          })
          .returning(sessionColumns);
        return { session: row!, cookie: `${row!.id}.${secret}` };
      });
    },

    /**
     * The session and user behind a cookie, or null when it is malformed, unknown, revoked,
     * expired, idle too long, or its user is disabled. Refreshes last-seen at most once a minute.
     */
    async validate(
      cookie: string,
      options: { idleTimeoutMs?: number } = {},
    ): Promise<{ session: Session; user: User } | null> {
      const parsed = typeof cookie === 'string' ? parseSessionCookie(cookie) : null;
      if (!parsed) return null;
      const idle = parse(
        z.number().int().positive().optional(),
        options.idleTimeoutMs,
        'idle timeout',
      );
      return deps.unscoped(async (tx) => {
        const [row] = await tx
          .select({ session: sessions, user: users })
          .from(sessions)
          .innerJoin(users, eq(users.id, sessions.userId))
          .where(eq(sessions.id, parsed.sessionId));
        if (!row || !hashesEqual(row.session.secretHash, sha256Hex(parsed.secret))) return null;
        const now = Date.now();
        const { secretHash: _s, ...session } = row.session;
        const { passwordHash: _p, operatorCodeHash: _o, ...user } = row.user;
        if (session.revokedAt || session.expiresAt.getTime() <= now || user.disabledAt) return null;
        if (idle !== undefined && session.lastSeenAt.getTime() + idle <= now) return null;
        if (session.lastSeenAt.getTime() < now - 60_000) {
          await tx
            .update(sessions)
            .set({ lastSeenAt: sql`now()` })
            .where(eq(sessions.id, session.id));
        }
        return { session, user };
      });
    },

    /** Marks a fresh sign-in (step-up re-authentication before sensitive actions). */
    async markAuthenticated(sessionId: string): Promise<void> {
      const id = parseId(sessionId, 'session id');
      await deps.unscoped(async (tx) => {
        const rows = await tx
          .update(sessions)
          .set({ authenticatedAt: sql`now()` })
          .where(and(eq(sessions.id, id), isNull(sessions.revokedAt)))
          .returning({ id: sessions.id });
        if (rows.length === 0) throw notFound('session', id);
      });
    },

    async revoke(sessionId: string): Promise<void> {
      const id = parseId(sessionId, 'session id');
      await deps.unscoped((tx) =>
        tx.update(sessions).set({ revokedAt: sql`now()` }).where(eq(sessions.id, id)),
      );
    },

    /** Signs the user out everywhere (optionally except the current session). */
    async revokeAllForUser(userId: string, options: { except?: string } = {}): Promise<number> {
      const id = parseId(userId, 'user id');
      const except =
        options.except === undefined ? undefined : parseId(options.except, 'session id');
      return deps.unscoped(async (tx) => {
        const rows = await tx
          .update(sessions)
          .set({ revokedAt: sql`now()` })
          .where(
            and(
              eq(sessions.userId, id),
              isNull(sessions.revokedAt),
              except ? sql`${sessions.id} <> ${except}` : undefined,
            ),
          )
          .returning({ id: sessions.id });
        return rows.length;
      });
    },

    /** Active sessions of a user, newest first (for a "your devices" page). */
    async listForUser(userId: string): Promise<Session[]> {
      const id = parseId(userId, 'user id');
      return deps.unscoped((tx) =>
        tx
          .select(sessionColumns)
          .from(sessions)
          .where(
            and(
              eq(sessions.userId, id),
              isNull(sessions.revokedAt),
              gt(sessions.expiresAt, sql`now()`),
            ),
          )
          .orderBy(desc(sessions.lastSeenAt)),
      );
    },

    /** Deletes expired and revoked sessions; returns how many. */
    async deleteExpired(): Promise<number> {
      return deps.unscoped(async (tx) => {
        const rows = await tx
          .delete(sessions)
          .where(or(lt(sessions.expiresAt, sql`now()`), sql`${sessions.revokedAt} is not null`))
          .returning({ id: sessions.id });
        return rows.length;
      });
    },
  };
}
