import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { queryRows } from '../db.ts';
import { type SignalInput, SignalInputSchema, type SignalSeverity } from '../repositories/audit.ts';
import { limitSchema, parse } from '../validation.ts';
import type { SystemDeps } from './deps.ts';

export interface InstanceSignal {
  id: string;
  at: Date;
  kind: string;
  severity: SignalSeverity;
  ip: string | null;
  actorType: string | null;
  actorId: string | null;
  details: Record<string, unknown>;
}

/** Signals that belong to no workspace (yet): a burst of unknown tokens from one address. */
export function instanceSignalsSystem(deps: SystemDeps) {
  return {
    async record(input: SignalInput): Promise<string> {
      const v = parse(SignalInputSchema, input, 'security signal');
      const [row] = await deps.unscoped((tx) =>
        queryRows<{ id: string }>(
          tx,
          sql`select parley_record_instance_signal(${v.kind}, ${v.severity}, ${v.ip ?? null}, ${v.actor?.type ?? null},
                ${v.actor?.id ?? null}, ${JSON.stringify(v.details ?? {})}::jsonb) as id`,
        ),
      );
      return row!.id;
    },

    /** Newest first. */
    async list(options: { since?: Date; limit?: number } = {}): Promise<InstanceSignal[]> {
      const v = parse(
        z.object({ since: z.date().default(new Date(0)), limit: limitSchema.default(100) }),
        options,
        'list options',
      );
      const rows = await deps.unscoped((tx) =>
        queryRows<{
          id: string;
          at: Date | string;
          kind: string;
          severity: SignalSeverity;
          ip: string | null;
          actor_type: string | null;
          actor_id: string | null;
          details: Record<string, unknown> | string;
        }>(
          tx,
          sql`select * from parley_list_instance_signals(${v.since.toISOString()}::timestamptz, ${v.limit})`,
        ),
      );
      return rows.map((r) => ({
        id: r.id,
        at: new Date(r.at),
        kind: r.kind,
        severity: r.severity,
        ip: r.ip,
        actorType: r.actor_type,
        actorId: r.actor_id,
        details: typeof r.details === 'string' ? JSON.parse(r.details) : r.details,
      }));
    },
  };
}
