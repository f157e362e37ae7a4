import { and, asc, desc, eq, gt, inArray, lt, sql } from 'drizzle-orm';
import { z } from 'zod';
import { arrayParam, queryRows } from '../db.ts';
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
      const value = parse(MessageListOptions, options, 'list options');
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

/** messages.list's options, built once (a continued conversation's run reads its history). */
const MessageListOptions = z.object({
  afterPosition: z.number().int().nonnegative().default(0),
  limit: limitSchema.default(200),
  last: limitSchema.optional(),
});

/** A stored message as the one-statement append returns it (snake case, JSON possibly as text). */
interface MessageRow {
  id: string;
  workspace_id: string;
  conversation_id: string;
  position: number;
  role: string;
  content: unknown;
  run_id: string | null;
  metadata: unknown;
  created_at: Date | string;
}

const fromJson = (value: unknown) => (typeof value === 'string' ? JSON.parse(value) : value);

/**
 * Messages for several conversations in one statement (the counters advanced, the rows
 * inserted after them), whatever their number: each list in order after its conversation's
 * earlier messages. A conversation named twice gets its lists one after the other. Answers
 * each list's rows. One statement, not two: under load every wait for the database is also
 * a wait for a turn of a busy event loop, and a run's end waits for its final message.
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
  // Each message's place among this call's messages of its conversation (1, 2, …).
  const added = new Map<string, number>();
  const column = { conversation: [] as string[], k: [] as number[], role: [] as string[] };
  const json = { content: [] as string[], metadata: [] as string[] };
  const runIds: (string | null)[] = [];
  for (const { id, list } of checked)
    for (const m of list) {
      const k = (added.get(id) ?? 0) + 1;
      added.set(id, k);
      column.conversation.push(id);
      column.k.push(k);
      column.role.push(m.role);
      json.content.push(JSON.stringify(m.content));
      json.metadata.push(JSON.stringify(m.metadata ?? {}));
      runIds.push(m.runId ?? null);
    }
  const stored = await queryRows<MessageRow>(
    ctx.tx,
    sql`with counters as (
        update conversations c set message_count = c.message_count + v.n, updated_at = now()
        from unnest(${arrayParam([...added.keys()], 'uuid[]')}, ${arrayParam([...added.values()], 'int[]')}) as v(id, n)
        where c.id = v.id and c.workspace_id = ${ctx.workspaceId}
        returning c.id, c.message_count - v.n as base
      )
      insert into messages (workspace_id, conversation_id, position, role, content, run_id, metadata)
      select ${ctx.workspaceId}::uuid, m.c, counters.base + m.k, m.r, m.content::jsonb, m.run, m.meta::jsonb
      from unnest(${arrayParam(column.conversation, 'uuid[]')}, ${arrayParam(column.k, 'int[]')},
        ${arrayParam(column.role, 'text[]')}, ${arrayParam(json.content, 'text[]')},
        ${arrayParam(runIds, 'uuid[]')}, ${arrayParam(json.metadata, 'text[]')}) as m(c, k, r, content, run, meta)
      join counters on counters.id = m.c
      returning *`,
  );
  const byPlace = new Map(stored.map((row) => [`${row.conversation_id} ${row.position}`, row]));
  // Where each conversation's first list starts: its lowest position stored by this call.
  const next = new Map<string, number>();
  for (const row of stored) {
    const position = Number(row.position);
    if (position < (next.get(row.conversation_id) ?? Number.POSITIVE_INFINITY))
      next.set(row.conversation_id, position);
  }
  return checked.map(({ id, list }) => {
    const first = next.get(id);
    // Not advanced: no such conversation in this workspace (its messages were not inserted).
    if (first === undefined) throw notFound('conversation', id);
    next.set(id, first + list.length);
    return list.map((_, i) => toMessage(byPlace.get(`${id} ${first + i}`)!));
  });
}

function toMessage(row: MessageRow): Message {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    conversationId: row.conversation_id,
    position: Number(row.position),
    role: row.role,
    content: fromJson(row.content),
    runId: row.run_id,
    metadata: fromJson(row.metadata),
    createdAt: new Date(row.created_at),
  } as Message;
}
