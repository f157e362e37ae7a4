import { z } from 'zod';

export const WorkspaceParams = z.object({ workspaceId: z.uuid() });
export const withWorkspace = <T extends z.ZodRawShape>(shape: T) => WorkspaceParams.extend(shape);
export const RunParams = z.object({ runId: z.uuid() });
/** An agent by id or by name (`support-bot`), so scripts and the CLI can use either. */
export const AgentRef = z.string().min(1).max(200);

/** `?limit=` for lists. */
export const Limit = z.coerce.number().int().min(1).max(200).optional();
/** `?before=` cursor: the last item's timestamp. */
export const Before = z.iso.datetime({ offset: true }).optional();
