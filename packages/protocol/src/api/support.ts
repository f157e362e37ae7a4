import { z } from 'zod';

/*
 * The support inbox (docs/trust.md) as the HTTP API shows it: tickets with their first-response
 * SLA, their event log, the SLA policy per priority and the breaches.
 */

export const TICKET_STATUSES = ['new', 'open', 'pending', 'solved', 'closed'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];
export const TICKET_PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type TicketPriority = (typeof TICKET_PRIORITIES)[number];
const DIRECTIONS = ['inbound', 'outbound'] as const;

export const TicketSchema = z.object({
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
export type Ticket = z.infer<typeof TicketSchema>;

export const TicketEventSchema = z.object({
  at: z.string(),
  kind: z.string(),
  actor: z.string(),
  direction: z.enum(DIRECTIONS).nullable(),
  body: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
});
export type TicketEvent = z.infer<typeof TicketEventSchema>;

export const TicketWithEventsSchema = z.object({
  ticket: TicketSchema,
  events: z.array(TicketEventSchema),
});

export const BreachSchema = z.object({
  ticketId: z.string(),
  at: z.string(),
  subject: z.string(),
  channel: z.string(),
  priority: z.string(),
  requester: z.string(),
  assignee: z.string().nullable(),
  slaHours: z.number().int(),
});
export type Breach = z.infer<typeof BreachSchema>;

/** First-response hours per priority. */
export const SlaPolicySchema = z.object(
  Object.fromEntries(TICKET_PRIORITIES.map((p) => [p, z.number().int()])) as Record<
    TicketPriority,
    z.ZodNumber
  >,
);
export type SlaPolicy = z.infer<typeof SlaPolicySchema>;
export const SetSlaPolicyRequestSchema = SlaPolicySchema.partial();

export const CreateTicketRequestSchema = z.object({
  subject: z.string().min(1).max(300),
  channel: z.string().min(1).max(40).default('api'),
  requester: z.string().min(1).max(320),
  priority: z.enum(TICKET_PRIORITIES).optional(),
  assignee: z.string().min(1).max(200).optional(),
  body: z.string().min(1).max(20_000).optional(),
});

export const UpdateTicketRequestSchema = z.object({
  status: z.enum(TICKET_STATUSES).optional(),
  priority: z.enum(TICKET_PRIORITIES).optional(),
  assignee: z.string().min(1).max(200).nullable().optional(),
});

export const TicketMessageRequestSchema = z.object({
  direction: z.enum(DIRECTIONS).default('outbound'),
  body: z.string().min(1).max(20_000),
});

/** support.open_ticket: a message from a connector or agent. */
export const SupportInboundRequestSchema = z.object({
  channel: z.string().min(1).max(40),
  /** The connector's thread or conversation id. */
  threadId: z.string().min(1).max(300),
  requester: z.string().min(1).max(320),
  text: z.string().min(1).max(20_000),
  subject: z.string().min(1).max(300).optional(),
  priority: z.enum(TICKET_PRIORITIES).optional(),
});
export const SupportInboundResponseSchema = z.object({
  support: z.boolean(),
  reason: z.string(),
  created: z.boolean(),
  ticket: TicketSchema.nullable(),
});
