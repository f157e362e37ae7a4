import { api } from '@parley/protocol';
import type { BreachRow, Ticket, TicketEvent } from '@parley/store';
import { fileSupportRequest, supportDesk } from '@parley/trust';
import { z } from 'zod';
import { notFound } from '../http/problem.ts';
import { defineRoute } from '../http/route.ts';
import { Limit, Timestamp, WorkspaceParams, withWorkspace } from './params.ts';

/*
 * The support inbox (docs/trust.md): tickets with a first-response SLA (@parley/trust's
 * support desk moves the clock, the store keeps the event log and its projection), the inbound
 * path connectors and agents use (`support.open_ticket`), the SLA policy per priority, and the
 * breaches. Times come from the server's trust clock, so tests can move it.
 */

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const ticketDto = (t: Ticket): api.Ticket => ({
  id: t.id,
  subject: t.subject,
  status: t.status as api.TicketStatus,
  priority: t.priority as api.TicketPriority,
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

const eventDto = (e: TicketEvent): api.TicketEvent => ({
  at: e.at.toISOString(),
  kind: e.kind,
  actor: e.actor,
  direction: e.direction as 'inbound' | 'outbound' | null,
  body: e.body,
  data: e.data,
});

const breachDto = (b: BreachRow): api.Breach => ({
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
      status: z.enum([...api.TICKET_STATUSES, 'active']).optional(),
      channel: z.string().max(40).optional(),
      limit: Limit,
    }),
    responses: { 200: z.array(api.TicketSchema) },
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
    body: api.CreateTicketRequestSchema,
    responses: { 201: api.TicketSchema },
    handler: async (ctx) => {
      const b = ctx.body;
      const ticket = await ctx.inWorkspace((ws) =>
        supportDesk(ws).createTicket(
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
    responses: { 200: api.TicketWithEventsSchema },
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
    body: api.UpdateTicketRequestSchema,
    responses: { 200: api.TicketSchema },
    handler: async (ctx) =>
      ticketDto(
        await ctx.inWorkspace((ws) =>
          supportDesk(ws).updateTicket(
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
    body: api.TicketMessageRequestSchema,
    responses: { 200: api.TicketSchema },
    handler: async (ctx) =>
      ticketDto(
        await ctx.inWorkspace((ws) =>
          supportDesk(ws).addMessage(
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
    body: api.SupportInboundRequestSchema,
    responses: { 200: api.SupportInboundResponseSchema },
    handler: async (ctx) => {
      const b = ctx.body;
      const now = ctx.services.trust.now();
      const { classification, filed } = await ctx.inWorkspace((ws) =>
        fileSupportRequest(
          ws,
          {
            channel: b.channel,
            threadId: b.threadId,
            requester: b.requester,
            text: b.text,
            ...(b.subject !== undefined ? { subject: b.subject } : {}),
            ...(b.priority ? { priority: b.priority } : {}),
          },
          now,
        ),
      );
      return {
        support: classification.support,
        reason: classification.reason,
        created: filed?.created ?? false,
        ticket: filed ? ticketDto(filed.ticket) : null,
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
    responses: { 200: api.SlaPolicySchema },
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
    body: api.SetSlaPolicyRequestSchema,
    responses: { 200: api.SlaPolicySchema },
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
    responses: { 200: z.array(api.BreachSchema) },
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
