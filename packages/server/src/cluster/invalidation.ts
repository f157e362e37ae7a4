import { randomUUID } from 'node:crypto';
import type { Bus, BusMessage } from '@parley/cluster';
import { z } from 'zod';

/*
 * Cache invalidation across a cluster (docs/scaling.md, "Cluster-wide state"). Whatever can
 * narrow what a token may do, change an agent or change a key is applied here at once and
 * announced on the bus; every other instance applies it when the message arrives (a few
 * milliseconds), not when its cache entries run out. When the bus was down (`onResync`),
 * messages may have been lost: everything is dropped and read again.
 */

const From = z.string().min(1).max(100);
const WorkspaceId = z.uuid();

/** Messages arrive from the network: each is validated before anything is dropped for it. */
export const InvalidationSchema = z.discriminatedUnion('type', [
  /** Token checks: a token revoked, a role changed, a member removed, a workspace deleted. */
  z.object({ type: z.literal('invalidate.tokens'), from: From }).strict(),
  /** A workspace's agents, deploys or trust page changed: its runs read them anew. */
  z.object({ type: z.literal('invalidate.agents'), from: From, workspaceId: WorkspaceId }).strict(),
  /** A workspace's secrets changed: decrypted keys and processes holding them go. */
  z
    .object({ type: z.literal('invalidate.secrets'), from: From, workspaceId: WorkspaceId })
    .strict(),
]);
export type InvalidationMessage = z.infer<typeof InvalidationSchema>;
/** What a caller asks to invalidate (the module adds where it came from). */
export type Invalidation = InvalidationMessage extends infer M
  ? M extends InvalidationMessage
    ? Omit<M, 'from'>
    : never
  : never;

const TYPES = new Set<string>(InvalidationSchema.options.map((o) => o.shape.type.value));

/** The caches an instance keeps, as invalidation sees them. */
export interface InvalidationTargets {
  tokens: { clear(): void };
  runs: { forgetAgents(workspaceId: string): void; forgetSecrets(workspaceId: string): void };
  log: {
    warn(details: object, message: string): void;
    info(details: object, message: string): void;
  };
}

/** Operations that may narrow what a token may do (a token's check is cached for seconds). */
const TOKEN_OPERATIONS = new Set([
  'revokeToken',
  'revokeAllTokens',
  'setMemberRole',
  'removeMember',
  'deleteWorkspace',
]);
const SECRET_OPERATIONS = new Set(['putSecret', 'deleteSecret']);
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Writes that change no agent: they leave the agent caches alone. */
const RUN_OPERATIONS = new Set(['startRun', 'cancelRun', 'decideApproval']);

/** What a finished request invalidates, from its operation, method, status and workspace. */
export function invalidationsFor(request: {
  operation: string | undefined;
  method: string;
  status: number;
  workspaceId: string | undefined;
}): Invalidation[] {
  const { operation = '', workspaceId } = request;
  const found: Invalidation[] = [];
  if (TOKEN_OPERATIONS.has(operation) && request.status < 400)
    found.push({ type: 'invalidate.tokens' });
  if (!workspaceId) return found;
  if (SECRET_OPERATIONS.has(operation)) found.push({ type: 'invalidate.secrets', workspaceId });
  // Any change to a workspace (an agent, a deploy, the trust page, …) reaches its next run.
  if (!READ_METHODS.has(request.method) && !RUN_OPERATIONS.has(operation))
    found.push({ type: 'invalidate.agents', workspaceId });
  return found;
}

export interface Invalidator {
  /** Applies here at once (before the caller hears the request is done), then on every other instance. */
  invalidate(invalidation: Invalidation): void;
  /** A workspace whose agents or secrets this instance may keep (cleared on a resync). */
  seen(workspaceId: string): void;
  /** Stops listening. */
  close(): void;
}

/** Workspaces remembered for a resync; beyond this, the caches' own expiry bounds staleness. */
const MAX_SEEN = 10_000;

export function createInvalidator(bus: Bus, targets: InvalidationTargets): Invalidator {
  /** This instance's own messages are applied when sent, not again when they come back. */
  const self = randomUUID();
  const workspaces = new Set<string>();

  const apply = (invalidation: Invalidation) => {
    switch (invalidation.type) {
      case 'invalidate.tokens':
        return targets.tokens.clear();
      case 'invalidate.agents':
        return targets.runs.forgetAgents(invalidation.workspaceId);
      case 'invalidate.secrets':
        return targets.runs.forgetSecrets(invalidation.workspaceId);
    }
  };

  const receive = (message: BusMessage) => {
    if (!TYPES.has(message.type)) return;
    const parsed = InvalidationSchema.safeParse(message);
    if (!parsed.success) {
      targets.log.warn({ type: message.type }, 'ignored a malformed invalidation from the bus');
      return;
    }
    if (parsed.data.from === self) return;
    const { from: _from, ...invalidation } = parsed.data;
    apply(invalidation as Invalidation);
  };

  /** Messages may have been lost while the bus was down: drop everything kept. */
  const resync = () => {
    targets.tokens.clear();
    for (const workspaceId of workspaces) {
      targets.runs.forgetAgents(workspaceId);
      targets.runs.forgetSecrets(workspaceId);
    }
    targets.log.info({ workspaces: workspaces.size }, 'the bus is back: caches dropped');
  };

  const unsubscribe = bus.subscribe(receive);
  const unresync = bus.onResync(resync);
  return {
    invalidate(invalidation) {
      apply(invalidation);
      bus.publish({ ...invalidation, from: self });
    },
    seen(workspaceId) {
      if (workspaces.has(workspaceId)) return;
      if (workspaces.size >= MAX_SEEN) workspaces.delete(workspaces.values().next().value!);
      workspaces.add(workspaceId);
    },
    close() {
      unsubscribe();
      unresync();
    },
  };
}
