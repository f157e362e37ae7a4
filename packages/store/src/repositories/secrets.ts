import { and, asc, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { secrets } from '../schema/index.ts';
import type { ScopeContext } from '../scope.ts';
import { LIMITS, parse, text } from '../validation.ts';
import { notFound } from './common.ts';

/** What a secret shows for display: never its value. */
export interface SecretInfo {
  id: string;
  name: string;
  /** The last 4 characters, or null for values shorter than 12 (4 of 8 would give too much away). */
  last4: string | null;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
  lastRevealedAt: Date | null;
}

/** Like environment variable names: `OPENAI_API_KEY`, `discord.bot-token`. */
export const SecretNameSchema = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/,
    'must start with a letter or _ and use only letters, digits, _ . -',
  );
const SecretValueSchema = text(LIMITS.secretValue, 1);
const MIN_LENGTH_FOR_LAST4 = 12;

const infoColumns = {
  id: secrets.id,
  name: secrets.name,
  last4: secrets.last4,
  createdBy: secrets.createdBy,
  createdAt: secrets.createdAt,
  updatedAt: secrets.updatedAt,
  lastRevealedAt: secrets.lastRevealedAt,
};

export function secretsRepository(ctx: ScopeContext) {
  return {
    /** Creates or replaces a secret. Write-only: nothing returned carries the value. */
    async put(
      name: string,
      value: string,
      options: { createdBy?: string } = {},
    ): Promise<SecretInfo> {
      const secretName = parse(SecretNameSchema, name, 'secret name');
      const secretValue = parse(SecretValueSchema, value, 'secret value');
      const dataKey = await ctx.vault.currentDataKey(ctx.tx, ctx.workspaceId);
      const sealed = ctx.vault.sealSecret(dataKey, ctx.workspaceId, secretName, secretValue);
      const last4 = secretValue.length >= MIN_LENGTH_FOR_LAST4 ? secretValue.slice(-4) : null;
      const [existing] = await ctx.tx
        .select({ id: secrets.id })
        .from(secrets)
        .where(and(eq(secrets.workspaceId, ctx.workspaceId), eq(secrets.name, secretName)));
      const [row] = await ctx.tx
        .insert(secrets)
        .values({
          workspaceId: ctx.workspaceId,
          name: secretName,
          ciphertext: sealed,
          dataKeyId: dataKey.id,
          last4,
          createdBy: options.createdBy ?? null,
        })
        .onConflictDoUpdate({
          target: [secrets.workspaceId, secrets.name],
          set: { ciphertext: sealed, dataKeyId: dataKey.id, last4, updatedAt: sql`now()` },
        })
        .returning(infoColumns);
      await ctx.audit({
        action: existing ? 'secret.update' : 'secret.create',
        targetType: 'secret',
        targetId: secretName,
      });
      return row!;
    },

    async list(): Promise<SecretInfo[]> {
      return ctx.tx
        .select(infoColumns)
        .from(secrets)
        .where(eq(secrets.workspaceId, ctx.workspaceId))
        .orderBy(asc(secrets.name));
    },

    async get(name: string): Promise<SecretInfo | null> {
      const secretName = parse(SecretNameSchema, name, 'secret name');
      const [row] = await ctx.tx
        .select(infoColumns)
        .from(secrets)
        .where(and(eq(secrets.workspaceId, ctx.workspaceId), eq(secrets.name, secretName)));
      return row ?? null;
    },

    /**
     * Decrypts a secret for runtime use (the provider call that needs it). Never put the result
     * in model context, events, logs or responses. Every call is audited as `secret.decrypt`.
     */
    async reveal(
      name: string,
      options: { purpose?: string; runId?: string } = {},
    ): Promise<string> {
      const secretName = parse(SecretNameSchema, name, 'secret name');
      const opts = parse(
        z.object({ purpose: text(200).optional(), runId: z.guid().optional() }),
        options,
        'reveal options',
      );
      const [row] = await ctx.tx
        .select()
        .from(secrets)
        .where(and(eq(secrets.workspaceId, ctx.workspaceId), eq(secrets.name, secretName)));
      if (!row) throw notFound('secret', secretName);
      const dataKey = await ctx.vault.dataKeyById(ctx.tx, ctx.workspaceId, row.dataKeyId);
      const value = ctx.vault.openSecret(dataKey, ctx.workspaceId, secretName, row.ciphertext);
      await ctx.tx
        .update(secrets)
        .set({ lastRevealedAt: sql`now()` })
        .where(eq(secrets.id, row.id));
      await ctx.audit({
        action: 'secret.decrypt',
        targetType: 'secret',
        targetId: secretName,
        ...(opts.runId ? { runId: opts.runId } : {}),
        metadata: opts.purpose ? { purpose: opts.purpose } : {},
      });
      return value;
    },

    async delete(name: string): Promise<void> {
      const secretName = parse(SecretNameSchema, name, 'secret name');
      const rows = await ctx.tx
        .delete(secrets)
        .where(and(eq(secrets.workspaceId, ctx.workspaceId), eq(secrets.name, secretName)))
        .returning({ id: secrets.id });
      if (rows.length === 0) throw notFound('secret', secretName);
      await ctx.audit({ action: 'secret.delete', targetType: 'secret', targetId: secretName });
    },
  };
}
