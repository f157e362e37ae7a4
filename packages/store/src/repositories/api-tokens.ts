import { and, desc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import { generateApiToken } from '../auth/tokens.ts';
import { queryRows } from '../db.ts';
import { StoreError } from '../errors.ts';
import { PermissionSchema } from '../identity/roles.ts';
import { apiTokens } from '../schema/index.ts';
import type { ScopeContext } from '../scope.ts';
import { ipSchema, nameSchema, parse, parseId, text, uuidSchema } from '../validation.ts';
import { notFound } from './common.ts';

/** What may be shown about a token: everything but its hash. */
export type ApiTokenInfo = Omit<typeof apiTokens.$inferSelect, 'tokenHash'>;

const DAY = 86_400_000;
/** GitHub's organisation default for fine-grained tokens. */
export const MAX_TOKEN_LIFETIME_MS = 366 * DAY;

const NewTokenSchema = z.object({
  name: nameSchema,
  /** Permissions, and `agent:<name>` scopes that limit the token to those agents' runs. */
  scopes: z
    .array(z.union([PermissionSchema, z.string().regex(/^agent:\S.{0,92}$/)]))
    .min(1)
    .max(50),
  expiresAt: z.date(),
  /** The user creating it; its effective rights are this user's role ∩ scopes. Absent: a service token. */
  createdBy: uuidSchema.optional(),
  /**
   * The token minting this one, when a token does: the new token may not outlive or outrank
   * it (expiry and scopes within its own) and is revoked with it.
   */
  parentId: uuidSchema.optional(),
});

const infoColumns = {
  id: apiTokens.id,
  workspaceId: apiTokens.workspaceId,
  name: apiTokens.name,
  prefix: apiTokens.prefix,
  last4: apiTokens.last4,
  scopes: apiTokens.scopes,
  createdBy: apiTokens.createdBy,
  parentId: apiTokens.parentId,
  createdAt: apiTokens.createdAt,
  expiresAt: apiTokens.expiresAt,
  lastUsedAt: apiTokens.lastUsedAt,
  lastUsedIp: apiTokens.lastUsedIp,
  lastUsedUserAgent: apiTokens.lastUsedUserAgent,
  revokedAt: apiTokens.revokedAt,
};

/**
 * A token minting another may not give it more than it has: the parent must be active (its row
 * locked until this transaction ends, so a concurrent revocation waits and then reaches the
 * child), the child expires no later and its scopes are among the parent's.
 */
async function checkWithinParent(
  ctx: ScopeContext,
  parentId: string,
  child: { scopes: string[]; expiresAt: Date },
): Promise<void> {
  const [parent] = await ctx.tx
    .select({
      scopes: apiTokens.scopes,
      expiresAt: apiTokens.expiresAt,
      revokedAt: apiTokens.revokedAt,
    })
    .from(apiTokens)
    .where(eq(apiTokens.id, parentId))
    .for('update');
  if (!parent) throw notFound('API token', parentId);
  const refuse = (message: string) => {
    throw new StoreError('store.token_exceeds_parent', message, {
      details: { parentId, parentExpiresAt: parent.expiresAt.toISOString() },
    });
  };
  if (parent.revokedAt || parent.expiresAt.getTime() <= Date.now())
    refuse('The token minting this one is no longer active.');
  if (child.expiresAt.getTime() > parent.expiresAt.getTime())
    refuse(
      `A token may not outlive the token that mints it: expire at ${parent.expiresAt.toISOString()} or earlier.`,
    );
  // A parent naming no agent may run all of them: any `agent:` scope narrows a child within it.
  const parentRunsAll = !parent.scopes.some((s) => s.startsWith('agent:'));
  const beyond = child.scopes.filter(
    (s) => !parent.scopes.includes(s) && !(parentRunsAll && s.startsWith('agent:')),
  );
  if (beyond.length > 0)
    refuse(
      `A token may not outrank the token that mints it: ${beyond.join(', ')} is not among its scopes.`,
    );
}

export function apiTokensRepository(ctx: ScopeContext) {
  return {
    /**
     * Creates a token bound to this workspace. `token` is returned once and never again:
     * only its SHA-256 is stored. Expiry is required, at most 366 days ahead.
     */
    async create(
      input: z.input<typeof NewTokenSchema>,
    ): Promise<{ token: string; info: ApiTokenInfo }> {
      const value = parse(
        NewTokenSchema.refine((v) => v.expiresAt.getTime() > Date.now(), {
          path: ['expiresAt'],
          message: 'must be in the future',
        }).refine((v) => v.expiresAt.getTime() <= Date.now() + MAX_TOKEN_LIFETIME_MS, {
          path: ['expiresAt'],
          message: 'must be at most 366 days ahead',
        }),
        input,
        'API token',
      );
      if (value.parentId) await checkWithinParent(ctx, value.parentId, value);
      const generated = generateApiToken();
      const [info] = await ctx.tx
        .insert(apiTokens)
        .values({
          workspaceId: ctx.workspaceId,
          name: value.name,
          tokenHash: generated.hash,
          prefix: generated.prefix,
          last4: generated.last4,
          scopes: [...new Set(value.scopes)].sort(),
          createdBy: value.createdBy,
          parentId: value.parentId,
          expiresAt: value.expiresAt,
        })
        .returning(infoColumns);
      await ctx.audit({
        action: 'token.create',
        targetType: 'api_token',
        targetId: info!.id,
        metadata: {
          scopes: info!.scopes,
          expiresAt: info!.expiresAt.toISOString(),
          ...(info!.parentId ? { parentId: info!.parentId } : {}),
        },
      });
      return { token: generated.token, info: info! };
    },

    async list(): Promise<ApiTokenInfo[]> {
      return ctx.tx
        .select(infoColumns)
        .from(apiTokens)
        .where(eq(apiTokens.workspaceId, ctx.workspaceId))
        .orderBy(desc(apiTokens.createdAt), desc(apiTokens.id));
    },

    async get(tokenId: string): Promise<ApiTokenInfo | null> {
      const id = parseId(tokenId, 'token id');
      const [row] = await ctx.tx.select(infoColumns).from(apiTokens).where(eq(apiTokens.id, id));
      return row ?? null;
    },

    /**
     * Revokes the token and, recursively, every token it minted; returns the ids revoked (the
     * token first). Two statements on purpose: the first waits for a mint under way from this
     * token (it holds the parent's row lock), so the second sees the child it made.
     */
    async revoke(tokenId: string): Promise<string[]> {
      const id = parseId(tokenId, 'token id');
      const rows = await ctx.tx
        .update(apiTokens)
        .set({ revokedAt: sql`now()` })
        .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)))
        .returning({ id: apiTokens.id });
      if (rows.length === 0) throw notFound('active API token', id);
      await ctx.audit({ action: 'token.revoke', targetType: 'api_token', targetId: id });
      const descendants = await queryRows<{ id: string; parent_id: string }>(
        ctx.tx,
        sql`with recursive minted as (
              select t.id, t.parent_id from api_tokens t where t.parent_id = ${id}
              union
              select t.id, t.parent_id from api_tokens t join minted m on t.parent_id = m.id
            )
            update api_tokens set revoked_at = now()
            where id in (select id from minted) and revoked_at is null
            returning id, parent_id`,
      );
      for (const child of descendants) {
        await ctx.audit({
          action: 'token.revoke',
          targetType: 'api_token',
          targetId: child.id,
          metadata: { cause: 'parent_revoked', parentId: child.parent_id, revokedWith: id },
        });
      }
      return [id, ...descendants.map((d) => d.id)];
    },

    /**
     * Records where a token was used from. Writes at most once a minute per token unless the
     * address changed, so authentication does not turn every request into a write.
     */
    async recordUse(tokenId: string, use: { ip?: string; userAgent?: string } = {}): Promise<void> {
      const id = parseId(tokenId, 'token id');
      const value = parse(
        z.object({ ip: ipSchema.optional(), userAgent: text(1_000).optional() }),
        use,
        'token use',
      );
      await ctx.tx
        .update(apiTokens)
        .set({
          lastUsedAt: sql`now()`,
          lastUsedIp: value.ip ?? null,
          lastUsedUserAgent: value.userAgent ?? null,
        })
        .where(
          and(
            eq(apiTokens.id, id),
            or(
              isNull(apiTokens.lastUsedAt),
              lt(apiTokens.lastUsedAt, sql`now() - interval '1 minute'`),
              sql`${apiTokens.lastUsedIp} is distinct from ${value.ip ?? null}`,
            ),
          ),
        );
    },
  };
}
