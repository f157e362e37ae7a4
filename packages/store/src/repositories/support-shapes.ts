import { z } from 'zod';
import type { TicketStatus } from './support.ts';

/* What the support repository's modules share. */

/** The statuses of a ticket still waiting on someone. */
export const OPEN_STATUSES: readonly TicketStatus[] = ['new', 'open', 'pending'];

export const ChannelSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,39}$/, 'must be a short lower-case name such as discord or email');
