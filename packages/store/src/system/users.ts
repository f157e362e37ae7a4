import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Tx } from '../db.ts';
import { StoreError } from '../errors.ts';
import { notFound } from '../repositories/common.ts';
import { sessions, users } from '../schema/index.ts';
import { LIMITS, parse, parseId, text } from '../validation.ts';
import type { SystemDeps } from './deps.ts';

/** A user as shown anywhere: never the password hash nor the operator code's hash. */
export type User = Omit<typeof users.$inferSelect, 'passwordHash' | 'operatorCodeHash'>;

export const EmailSchema = z
  .email()
  .max(320)
  .transform((e) => e.toLowerCase());
/**
 * A PHC-format hash (`$argon2id$v=19$m=19456,t=2,p=1$…`). Hashing is the server's job; this
 * check keeps a plain password from being stored by mistake.
 */
const PasswordHashSchema = z
  .string()
  .max(1_000)
  .regex(/^\$[a-z0-9-]+(\$[^\s$]+)+$/, 'must be a PHC hash string');

const userColumns = {
  id: users.id,
  email: users.email,
  displayName: users.displayName,
  createdAt: users.createdAt,
  updatedAt: users.updatedAt,
  disabledAt: users.disabledAt,
  operatorConfirmedAt: users.operatorConfirmedAt,
};

const CodeHashSchema = z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 hex digest');

const NewUserSchema = z.object({
  email: EmailSchema,
  displayName: text(LIMITS.name, 1),
  passwordHash: PasswordHashSchema.optional(),
});

async function codeUsed(tx: Tx, hash: string): Promise<boolean> {
  const rows = await tx
    .select({ id: users.id })
    .from(users)
    .where(eq(users.operatorCodeHash, hash))
    .limit(1);
  return rows.length > 0;
}

export function usersSystem(deps: SystemDeps) {
  return {
    async create(input: z.input<typeof NewUserSchema>): Promise<User> {
      const value = parse(NewUserSchema, input, 'user');
      return deps.unscoped(async (tx) => {
        const [row] = await tx
          .insert(users)
          .values(value)
          .onConflictDoNothing()
          .returning(userColumns);
        if (!row) throw new StoreError('store.conflict', 'A user with this email already exists.');
        return row;
      });
    },

    async get(userId: string): Promise<User | null> {
      const id = parseId(userId, 'user id');
      return deps.unscoped(
        async (tx) => (await tx.select(userColumns).from(users).where(eq(users.id, id)))[0] ?? null,
      );
    },

    async findByEmail(email: string): Promise<User | null> {
      const value = parse(EmailSchema, email, 'email');
      return deps.unscoped(
        async (tx) =>
          (await tx.select(userColumns).from(users).where(eq(users.email, value)))[0] ?? null,
      );
    },

    /** For sign-in only: the user and the stored password hash to verify against. */
    async getCredentials(
      email: string,
    ): Promise<{ user: User; passwordHash: string | null } | null> {
      const value = parse(EmailSchema, email, 'email');
      return deps.unscoped(async (tx) => {
        const [row] = await tx
          .select({ ...userColumns, passwordHash: users.passwordHash })
          .from(users)
          .where(eq(users.email, value));
        if (!row) return null;
        const { passwordHash, ...user } = row;
        return { user, passwordHash };
      });
    },

    async update(
      userId: string,
      patch: { email?: string; displayName?: string; passwordHash?: string | null },
    ): Promise<User> {
      const id = parseId(userId, 'user id');
      const value = parse(
        z.object({
          email: EmailSchema.optional(),
          displayName: text(LIMITS.name, 1).optional(),
          passwordHash: PasswordHashSchema.nullable().optional(),
        }),
        patch,
        'user patch',
      );
      return deps.unscoped(async (tx) => {
        const [row] = await tx
          .update(users)
          .set({ ...value, updatedAt: sql`now()` })
          .where(eq(users.id, id))
          .returning(userColumns);
        if (!row) throw notFound('user', id);
        return row;
      });
    },

    /**
     * Makes a person an instance operator, with the SHA-256 of the one-time code they showed.
     * A code confirms one person once (unique hash): a second use is a conflict. Someone
     * confirmed already stays as they are (their first code is kept).
     */
    async confirmOperator(userId: string, codeHash: string): Promise<User> {
      const id = parseId(userId, 'user id');
      const hash = parse(CodeHashSchema, codeHash, 'operator code hash');
      return deps.unscoped(async (tx) => {
        if (await codeUsed(tx, hash))
          throw new StoreError('store.conflict', 'This operator code was used already.');
        const [row] = await tx
          .update(users)
          .set({
            operatorConfirmedAt: sql`coalesce(${users.operatorConfirmedAt}, now())`,
            operatorCodeHash: sql`coalesce(${users.operatorCodeHash}, ${hash})`,
            updatedAt: sql`now()`,
          })
          .where(eq(users.id, id))
          .returning(userColumns);
        if (!row) throw notFound('user', id);
        return row;
      });
    },

    /** Whether a code (by its SHA-256) has confirmed someone already. */
    async operatorCodeUsed(codeHash: string): Promise<boolean> {
      const hash = parse(CodeHashSchema, codeHash, 'operator code hash');
      return deps.unscoped((tx) => codeUsed(tx, hash));
    },

    /** Disables the account and ends all its sessions. */
    async disable(userId: string): Promise<void> {
      const id = parseId(userId, 'user id');
      await deps.unscoped(async (tx) => {
        const rows = await tx
          .update(users)
          .set({ disabledAt: sql`now()`, updatedAt: sql`now()` })
          .where(eq(users.id, id))
          .returning({ id: users.id });
        if (rows.length === 0) throw notFound('user', id);
        await tx.update(sessions).set({ revokedAt: sql`now()` }).where(eq(sessions.userId, id));
      });
    },
  };
}
