import {
  type BreachRow,
  TICKET_PRIORITIES,
  TICKET_STATUSES,
  type Ticket,
  type TicketEvent,
} from '@parley/store';
import { z } from 'zod';
import { notFound } from '../http/problem.ts';
import { defineRoute } from '../http/route.ts';
import { classifySupportRequest } from '../trust/classifier.ts';
import { Limit, Timestamp, WorkspaceParams, withWorkspace } from './params.ts';

/*
 * The support inbox (docs/trust.md): tickets with a first-response SLA whose clock the store
 * keeps (event log + projection), the inbound path connectors and agents use
 * (`support.open_ticket`), the SLA policy per priority, and the breaches. Times come from the
 * server's trust clock, so tests can move it.
 */

const TicketSchema = z.object({
  id: z.string(),
  subject: z.string(),
  status: z.enum(TICKET_STATUSES),
  priority: z.enum(TICKET_PRIORITIES),
  channel: z.string(),
  requester: z.string(),
  assignee: z.string().nullable(),
  externalKey: z.string().nullable(),
  slaHours: z.number().int(),
  firstResponseDueAt: z.string().nullable(),
  slaRemainingSeconds: z.number().int().nullable(),
  firstRespondedAt: z.string().nullable(),
  slaBreachedAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const EventSchema = z.object({
  at: z.string(),
  kind: z.string(),
  actor: z.string(),
  direction: z.enum(['inbound', 'outbound']).nullable(),
  body: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
});

const BreachSchema = z.object({
  ticketId: z.string(),
  at: z.string(),
  subject: z.string(),
  channel: z.string(),
  priority: z.string(),
  requester: z.string(),
  assignee: z.string().nullable(),
  slaHours: z.number().int(),
});

const PolicySchema = z.object(
  Object.fromEntries(TICKET_PRIORITIES.map((p) => [p, z.number().int()])) as Record<
    (typeof TICKET_PRIORITIES)[number],
    z.ZodNumber
  >,
);

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const ticketDto = (t: Ticket): z.infer<typeof TicketSchema> => ({
  id: t.id,
  subject: t.subject,
  status: t.status as z.infer<typeof TicketSchema>['status'],
  priority: t.priority as z.infer<typeof TicketSchema>['priority'],
  channel: t.channel,
  requester: t.requester,
  assignee: t.assignee,
  externalKey: t.externalKey,
  slaHours: t.slaHours,
  firstResponseDueAt: iso(t.firstResponseDueAt),
  slaRemainingSeconds: t.slaRemainingSeconds,
  firstRespondedAt: iso(t.firstRespondedAt),
  slaBreachedAt: iso(t.slaBreachedAt),
  createdAt: t.createdAt.toISOString(),
  updatedAt: t.updatedAt.toISOString(),
});

const eventDto = (e: TicketEvent): z.infer<typeof EventSchema> => ({
  at: e.at.toISOString(),
  kind: e.kind,
  actor: e.actor,
  direction: e.direction as 'inbound' | 'outbound' | null,
  body: e.body,
  data: e.data,
});

const breachDto = (b: BreachRow): z.infer<typeof BreachSchema> => ({
  ...b,
  at: b.at.toISOString(),
});

const TicketParams = withWorkspace({ ticketId: z.uuid() });

export const supportRoutes = [
  defineRoute({
    method: 'GET',
    url: '/v1/workspaces/:workspaceId/support/tickets',
    operationId: 'listTickets',
    summary: 'Tickets, newest first; `status=active` for new, open and pending.',
    tag: 'support',
    access: { kind: 'workspace', permission: 'workspace:read' },
    params: WorkspaceParams,
    query: z.object({
      status: z.enum([...TICKET_STATUSES, 'active']).optional(),
      channel: z.string().max(40).optional(),
      limit: Limit,
    }),
    responses: { 200: z.array(TicketSchema) },
    handler: async (ctx) =>
      (
        await ctx.inWorkspace((ws) =>
          ws.support.listTickets({
            ...(ctx.query.status ? { status: ctx.query.status } : {}),
            ...(ctx.query.channel ? { channel: ctx.query.channel } : {}),
            ...(ctx.query.limit ? { limit: ctx.query.limit } : {}),
          }),
        )
      ).map(ticketDto),
  }),

  defineRoute({
    method: 'POST',
    url: '/v1/workspaces/:workspaceId/support/tickets',
    operationId: 'createTicket',
    summary:
      "Opens a ticket; its first-response clock starts now with the workspace's target for its priority (48 h by default).",
    tag: 'support',
    access: { kind: 'workspace', permission: 'runs:create' },
    params: WorkspaceParams,
    body: z.object({
      subject: z.string().min(1).max(300),
      channel: z.string().min(1).max(40).default('api'),
      requester: z.string().min(1).max(320),
      priority: z.enum(TICKET_PRIORITIES).optional(),
      assignee: z.string().min(1).max(200).optional(),
      body: z.string().min(1).max(20_000).optional(),
    }),
    responses: { 201: TicketSchema },
    handler: async (ctx) => {
      const b = ctx.body;
      const ticket = await ctx.inWorkspace((ws) =>
        ws.support.createTicket(
          {
            subject: b.subject,
            channel: b.channel,
            requester: b.requester,
            ...(b.priority ? { priority: b.priority } : {}),
            ...(b.assignee ? { assignee: b.assignee } : {}),
            ...(b.body ? { body: b.body } : {}),
          },
          ctx.services.trust.now(),
        ),
      );
      ctx.reply.code(201);
      return ticketDto(ticket);
    },
  }),

  defineRoute({
    method: 'GET',
    url: '/v1/workspaces/:workspaceId/support/tickets/:ticketId',
    operationId: 'getTicket',
    summary: 'A ticket with its event log (the record every SLA metric is derived from).',
    tag: 'support',
    access: { kind: 'workspace', permission: 'workspace:read' },
    params: TicketParams,
    responses: { 200: z.object({ ticket: TicketSchema, events: z.array(EventSchema) }) },
    handler: async (ctx) => {
      const found = await ctx.inWorkspace(async (ws) => {
        const ticket = await ws.support.getTicket(ctx.params.ticketId);
        return ticket && { ticket, events: await ws.support.listEvents(ticket.id) };
      });
      if (!found) throw notFound('Ticket');
      return { ticket: ticketDto(found.ticket), events: found.events.map(eventDto) };
    },
  }),

  defineRoute({
    method: 'PATCH',
    url: '/v1/workspaces/:workspaceId/support/tickets/:ticketId',
    operationId: 'updateTicket',
    summary:
      'Changes status, priority or assignee. Pending pauses the first-response clock; back to open resumes it; solved or closed stops it; a solved ticket moved back is a reopen.',
    tag: 'support',
    access: { kind: 'workspace', permission: 'runs:create' },
    params: TicketParams,
    body: z.object({
      status: z.enum(TICKET_STATUSES).optional(),
      priority: z.enum(TICKET_PRIORITIES).optional(),
      assignee: z.string().min(1).max(200).nullable().optional(),
    }),
    responses: { 200: TicketSchema },
    handler: async (ctx) =>
      ticketDto(
        await ctx.inWorkspace((ws) =>
          ws.support.updateTicket(
            ctx.params.ticketId,
            {
              ...(ctx.body.status ? { status: ctx.body.status } : {}),
              ...(ctx.body.priority ? { priority: ctx.body.priority } : {}),
              ...(ctx.body.assignee !== undefined ? { assignee: ctx.body.assignee } : {}),
            },
            ctx.services.trust.now(),
          ),
        ),
      ),
  }),

  defineRoute({
    method: 'POST',
    url: '/v1/workspaces/:workspaceId/support/tickets/:ticketId/messages',
    operationId: 'addTicketMessage',
    summary:
      'A message on the ticket: the first outbound one is the first response (fulfil); an inbound one wakes a pending ticket or reopens a solved one.',
    tag: 'support',
    access: { kind: 'workspace', permission: 'runs:create' },
    params: TicketParams,
    body: z.object({
      direction: z.enum(['inbound', 'outbound']).default('outbound'),
      body: z.string().min(1).max(20_000),
    }),
    responses: { 200: TicketSchema },
    handler: async (ctx) =>
      ticketDto(
        await ctx.inWorkspace((ws) =>
          ws.support.addMessage(
            ctx.params.ticketId,
            { direction: ctx.body.direction, body: ctx.body.body },
            ctx.services.trust.now(),
          ),
        ),
      ),
  }),

  defineRoute({
    method: 'POST',
    url: '/v1/workspaces/:workspaceId/support/inbound',
    operationId: 'supportOpenTicket',
    summary:
      'support.open_ticket: a message from a connector or agent. On a thread that has a ticket it is added to it; otherwise, if the classifier calls it a support request, it opens one.',
    tag: 'support',
    access: { kind: 'workspace', permission: 'runs:create' },
    params: WorkspaceParams,
    body: z.object({
      channel: z.string().min(1).max(40),
      /** The connector's thread or conversation id. */
      threadId: z.string().min(1).max(300),
      requester: z.string().min(1).max(320),
      text: z.string().min(1).max(20_000),
      subject: z.string().min(1).max(300).optional(),
      priority: z.enum(TICKET_PRIORITIES).optional(),
    }),
    responses: {
      200: z.object({
        support: z.boolean(),
        reason: z.string(),
        created: z.boolean(),
        ticket: TicketSchema.nullable(),
      }),
    },
    handler: async (ctx) => {
      const b = ctx.body;
      const verdict = classifySupportRequest(b.text);
      const now = ctx.services.trust.now();
      const line = b.text.replace(/\s+/g, ' ').trim();
      const result = await ctx.inWorkspace(async (ws) => {
        const threaded = await ws.support.getThreadTicket(b.channel, b.threadId);
        if (!threaded && !verdict.support) return undefined;
        return ws.support.openOrUpdate(
          {
            subject: b.subject ?? (line.length > 120 ? `${line.slice(0, 119)}…` : line),
            channel: b.channel,
            requester: b.requester,
            externalKey: b.threadId,
            body: b.text,
            ...(b.priority ? { priority: b.priority } : {}),
          },
          now,
        );
      });
      return {
        support: verdict.support,
        reason: verdict.reason,
        created: result?.created ?? false,
        ticket: result ? ticketDto(result.ticket) : null,
      };
    },
  }),

  defineRoute({
    method: 'GET',
    url: '/v1/workspaces/:workspaceId/support/policy',
    operationId: 'getSlaPolicy',
    summary: 'First-response hours per priority (48 where the workspace set none).',
    tag: 'support',
    access: { kind: 'workspace', permission: 'workspace:read' },
    params: WorkspaceParams,
    responses: { 200: PolicySchema },
    handler: async (ctx) => ctx.inWorkspace((ws) => ws.support.getPolicy()),
  }),

  defineRoute({
    method: 'PUT',
    url: '/v1/workspaces/:workspaceId/support/policy',
    operationId: 'setSlaPolicy',
    summary:
      'Sets first-response hours for some priorities (1–8760); applies to tickets opened afterwards; audited.',
    tag: 'support',
    access: { kind: 'workspace', permission: 'workspace:manage' },
    params: WorkspaceParams,
    body: PolicySchema.partial(),
    responses: { 200: PolicySchema },
    handler: async (ctx) => ctx.inWorkspace((ws) => ws.support.setPolicy(ctx.body)),
  }),

  defineRoute({
    method: 'GET',
    url: '/v1/workspaces/:workspaceId/support/breaches',
    operationId: 'listBreaches',
    summary: 'First-response SLA breaches since a time, newest first, with their ticket.',
    tag: 'support',
    access: { kind: 'workspace', permission: 'workspace:read' },
    params: WorkspaceParams,
    query: z.object({ since: Timestamp.optional(), limit: Limit }),
    responses: { 200: z.array(BreachSchema) },
    handler: async (ctx) =>
      (
        await ctx.inWorkspace((ws) =>
          ws.support.listBreaches({
            ...(ctx.query.since ? { since: new Date(ctx.query.since) } : {}),
            ...(ctx.query.limit ? { limit: ctx.query.limit } : {}),
          }),
        )
      ).map(breachDto),
  }),
];
