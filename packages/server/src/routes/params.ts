import { z } from 'zod';

export const WorkspaceParams = z.object({ workspaceId: z.uuid() });
export const withWorkspace = <T extends z.ZodRawShape>(shape: T) => WorkspaceParams.extend(shape);
export const RunParams = z.object({ runId: z.uuid() });
/** An agent by id or by name (`support-bot`), so scripts and the CLI can use either. */
export const AgentRef = z.string().min(1).max(200);

/** `?limit=` for lists. */
export const Limit = z.coerce.number().int().min(1).max(200).optional();
/**
 * An ISO 8601 timestamp with an offset, within the years 1–9999 once in UTC: PostgreSQL has no
 * year 0 (`0000-01-01T00:00:00Z`, or `0001-01-01T00:00:00+14:00`, was a database error, 500).
 */
export const Timestamp = z.iso.datetime({ offset: true }).refine((value) => {
  const year = new Date(value).getUTCFullYear();
  return year >= 1 && year <= 9999;
}, 'must be a time between the years 1 and 9999 (UTC)');
/** `?before=` cursor: the last item's timestamp. */
export const Before = Timestamp.optional();
/**
 * `?beforeId=` cursor: the last item's id. Pages by the item's own time and then its id, so
 * items that share a time (rows of one transaction) are neither repeated nor skipped.
 */
export const BeforeId = z.uuid().optional();
