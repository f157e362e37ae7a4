import { and, asc, desc, eq, gt, inArray, lt, sql } from 'drizzle-orm';
import { z } from 'zod';
import { queryRows } from '../db.ts';
import { conversations, messages } from '../schema/index.ts';
import type { ScopeContext } from '../scope.ts';
import {
  LIMITS,
  limitSchema,
  metadataSchema,
  parse,
  parseId,
  text,
  uuidSchema,
} from '../validation.ts';
import { afterRow, defined, notFound } from './common.ts';

export type Conversation = typeof conversations.$inferSelect;
export type Message = Omit<typeof messages.$inferSelect, 'content'> & { content: MessagePart[] };

/*
 * Message content is a list of parts, the same whether the reply was streamed or not: the
 * run loop folds the Parley Stream into these (the protocol's reducer parts fit as they are).
 * Known fields are checked; other fields are kept, so the reducer's `partId`, `stepId`,
 * `status`… survive a round trip.
 */
const partId = text(200);
export const MessagePartSchema = z.discriminatedUnion('kind', [
  z.looseObject({ kind: z.literal('text'), text: z.string() }),
  z.looseObject({ kind: z.literal('refusal'), text: z.string() }),
  z.looseObject({
    kind: z.literal('reasoning'),
    text: z.string(),
    visibility: z.enum(['full', 'summary', 'encrypted', 'redacted']).optional(),
    replay: z.unknown().optional(),
  }),
  z.looseObject({
    kind: z.literal('tool_call'),
    toolCallId: partId.min(1),
    name: text(200).min(1),
    args: z.unknown().optional(),
    argsText: z.string().optional(),
  }),
  z.looseObject({
    kind: z.literal('tool_result'),
    toolCallId: partId.min(1),
    ok: z.boolean(),
    output: z.unknown().optional(),
    error: z.string().optional(),
  }),
  z.looseObject({
    kind: z.literal('file'),
    mediaType: text(200).min(1),
    /** A URL or a `data:` URL. */
    url: z.string().max(LIMITS.jsonBytes),
    name: text(LIMITS.name).optional(),
  }),
]);
export type MessagePart = z.infer<typeof MessagePartSchema>;

export const MessageRoleSchema = z.enum(['system', 'user', 'assistant', 'tool']);

const NewMessageSchema = z.object({
  role: MessageRoleSchema,
  content: z.array(MessagePartSchema).max(1_000),
  runId: uuidSchema.optional(),
  metadata: metadataSchema.optional(),
});
export type NewMessage = z.input<typeof NewMessageSchema>;
const NewMessagesSchema = z
  .array(NewMessageSchema)
  .min(1)
  .max(1_000)
  .superRefine((list, ctx) => {
    if (JSON.stringify(list).length > LIMITS.jsonBytes * 4) {
      ctx.addIssue({ code: 'custom', message: 'the batch is too large' });
    }
    list.forEach((m, i) => {
      const json = JSON.stringify(m.content);
      if (json.length > LIMITS.jsonBytes) {
        ctx.addIssue({
          code: 'custom',
          path: [i, 'content'],
          message: `is larger than ${LIMITS.jsonBytes} characters of JSON`,
        });
      }
      if (json.includes('\\u0000')) {
        ctx.addIssue({
          code: 'custom',
          path: [i, 'content'],
          message: 'must not contain NUL characters',
        });
      }
    });
  });

const NewConversationSchema = z.object({
  /** Chosen by the caller (the server starts the model call before the row is written). */
  id: uuidSchema.optional(),
  agentId: uuidSchema,
  title: text(LIMITS.name).optional(),
  userId: text(LIMITS.name, 1).optional(),
  createdBy: uuidSchema.optional(),
  metadata: metadataSchema.optional(),
});

export type NewConversation = z.input<typeof NewConversationSchema>;

/** A new conversation's row, validated. */
export function newConversationRow(ctx: ScopeContext, input: NewConversation) {
  return { workspaceId: ctx.workspaceId, ...parse(NewConversationSchema, input, 'conversation') };
}

export function conversationsRepository(ctx: ScopeContext) {
  return {
    async create(input: NewConversation): Promise<Conversation> {
      const [row] = await ctx.tx
        .insert(conversations)
        .values(newConversationRow(ctx, input))
        .returning();
      return row!;
    },

    /** The conversations of these ids that exist (in no particular order). */
    async getMany(conversationIds: string[]): Promise<Conversation[]> {
      if (conversationIds.length === 0) return [];
      const ids = conversationIds.map((id) => parseId(id, 'conversation id'));
      return ctx.tx.select().from(conversations).where(inArray(conversations.id, ids));
    },

    async get(conversationId: string): Promise<Conversation | null> {
      const id = parseId(conversationId, 'conversation id');
      const [row] = await ctx.tx.select().from(conversations).where(eq(conversations.id, id));
      return row ?? null;
    },

    /**
     * Most recently active first; page with `beforeId` (the last row's id) or `before` (the
     * last row's updatedAt).
     */
    async list(
      options: {
        agentId?: string;
        userId?: string;
        limit?: number;
        before?: Date;
        beforeId?: string;
      } = {},
    ): Promise<Conversation[]> {
      const value = parse(
        z.object({
          agentId: uuidSchema.optional(),
          userId: text(LIMITS.name).optional(),
          limit: limitSchema.default(50),
          before: z.date().optional(),
          beforeId: uuidSchema.optional(),
        }),
        options,
        'list options',
      );
      return ctx.tx
        .select()
        .from(conversations)
        .where(
          and(
            eq(conversations.workspaceId, ctx.workspaceId),
            value.agentId ? eq(conversations.agentId, value.agentId) : undefined,
            value.userId ? eq(conversations.userId, value.userId) : undefined,
            value.before ? lt(conversations.updatedAt, value.before) : undefined,
            value.beforeId
              ? afterRow(
                  conversations,
                  {
                    time: conversations.updatedAt,
                    id: conversations.id,
                    workspaceId: conversations.workspaceId,
                  },
                  ctx.workspaceId,
                  value.beforeId,
                )
              : undefined,
          ),
        )
        .orderBy(desc(conversations.updatedAt), desc(conversations.id))
        .limit(value.limit);
    },

    async update(
      conversationId: string,
      patch: { title?: string | null; metadata?: Record<string, unknown> },
    ): Promise<Conversation> {
      const id = parseId(conversationId, 'conversation id');
      const value = parse(
        z.object({
          title: text(LIMITS.name).nullable().optional(),
          metadata: metadataSchema.optional(),
        }),
        patch,
        'conversation patch',
      );
      const [row] = await ctx.tx
        .update(conversations)
        .set({ ...defined(value), updatedAt: sql`now()` })
        .where(eq(conversations.id, id))
        .returning();
      if (!row) throw notFound('conversation', id);
      return row;
    },

    async delete(conversationId: string): Promise<void> {
      const id = parseId(conversationId, 'conversation id');
      const rows = await ctx.tx
        .delete(conversations)
        .where(eq(conversations.id, id))
        .returning({ id: conversations.id });
      if (rows.length === 0) throw notFound('conversation', id);
    },
  };
}

export function messagesRepository(ctx: ScopeContext) {
  return {
    /**
     * Appends messages to a conversation in one statement. Positions continue the
     * conversation gap-free: the counter update locks the conversation row, so concurrent
     * appenders take turns.
     */
    async append(conversationId: string, input: NewMessage[]): Promise<Message[]> {
      const [rows] = await appendMessages(ctx, [{ conversationId, messages: input }]);
      return rows!;
    },

    /**
     * Messages for several conversations in two statements (one counter update, one insert),
     * whatever their number: each list in order after its conversation's earlier messages. A
     * conversation named twice gets its lists one after the other. Answers each list's rows.
     */
    appendMany(
      items: readonly { conversationId: string; messages: NewMessage[] }[],
    ): Promise<Message[][]> {
      return appendMessages(ctx, items);
    },

    /**
     * Messages in order. `afterPosition` pages forward; `last: n` gives the newest n (still in
     * order), which is what building a model context needs.
     */
    async list(
      conversationId: string,
      options: { afterPosition?: number; limit?: number; last?: number } = {},
    ): Promise<Message[]> {
      const id = parseId(conversationId, 'conversation id');
      const value = parse(
        z.object({
          afterPosition: z.number().int().nonnegative().default(0),
          limit: limitSchema.default(200),
          last: limitSchema.optional(),
        }),
        options,
        'list options',
      );
      const where = and(eq(messages.workspaceId, ctx.workspaceId), eq(messages.conversationId, id));
      if (value.last !== undefined) {
        const rows = await ctx.tx
          .select()
          .from(messages)
          .where(where)
          .orderBy(desc(messages.position))
          .limit(value.last);
        return rows.reverse() as Message[];
      }
      return (await ctx.tx
        .select()
        .from(messages)
        .where(and(where, gt(messages.position, value.afterPosition)))
        .orderBy(asc(messages.position))
        .limit(value.limit)) as Message[];
    },
  };
}

/**
 * Messages for several conversations in two statements (one counter update, one insert),
 * whatever their number: each list in order after its conversation's earlier messages. A
 * conversation named twice gets its lists one after the other. Answers each list's rows.
 */
async function appendMessages(
  ctx: ScopeContext,
  items: readonly { conversationId: string; messages: NewMessage[] }[],
): Promise<Message[][]> {
  if (items.length === 0) return [];
  const checked = items.map((item) => ({
    id: parseId(item.conversationId, 'conversation id'),
    list: parse(NewMessagesSchema, item.messages, 'messages'),
  }));
  const added = new Map<string, number>();
  for (const { id, list } of checked) added.set(id, (added.get(id) ?? 0) + list.length);
  const counters = await queryRows<{ id: string; message_count: number }>(
    ctx.tx,
    sql`update conversations c set message_count = c.message_count + v.n, updated_at = now()
      from unnest(${sql.param([...added.keys()])}::uuid[], ${sql.param([...added.values()])}::int[]) as v(id, n)
      where c.id = v.id and c.workspace_id = ${ctx.workspaceId}
      returning c.id, c.message_count`,
  );
  // The next free position of each conversation, before this call's messages.
  const next = new Map(counters.map((c) => [c.id, Number(c.message_count) - added.get(c.id)! + 1]));
  const rows = checked.map(({ id, list }) => {
    const first = next.get(id);
    if (first === undefined) throw notFound('conversation', id);
    next.set(id, first + list.length);
    return list.map((m, i) => ({
      workspaceId: ctx.workspaceId,
      conversationId: id,
      position: first + i,
      role: m.role,
      content: m.content,
      runId: m.runId ?? null,
      metadata: (m.metadata ?? {}) as Record<string, unknown>,
    }));
  });
  const stored = await ctx.tx.insert(messages).values(rows.flat()).returning();
  const byPlace = new Map(stored.map((m) => [`${m.conversationId} ${m.position}`, m]));
  return rows.map((list) =>
    list.map((r) => byPlace.get(`${r.conversationId} ${r.position}`)! as Message),
  );
}
