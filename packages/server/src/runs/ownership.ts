import type { ClaimedRun, Store } from '@parley/store';
import type { FastifyBaseLogger } from 'fastify';

export interface OwnershipOptions {
  store: Store;
  instanceId: string;
  /** How long a lease lasts without a renewal; renewed every third of it. */
  leaseMs: number;
  log: FastifyBaseLogger;
  /** The runs this instance executes whose rows are stored (so their leases exist). */
  heldRunIds(): string[];
  /** Another instance took over a run this one still executes: stop it, write nothing more. */
  onLost(runId: string): void;
  /** A run whose lease lapsed is now this instance's: continue it. */
  onClaimed(claim: ClaimedRun): Promise<void>;
}

/**
 * Run ownership in a cluster (PostgreSQL): this instance renews the leases of the runs it
 * executes, and claims the runs whose leases lapsed (their instance died, or handed them over
 * on SIGTERM) to continue them. Leases are rows on the database's clock; a claim goes to
 * exactly one instance (SKIP LOCKED). No membership protocol: an instance that stops
 * renewing simply loses its runs.
 */
export function createOwnership(options: OwnershipOptions) {
  const { store, instanceId, leaseMs, log } = options;
  const renewEvery = Math.max(100, Math.floor(leaseMs / 3));
  const claimEvery = Math.max(100, Math.min(1_000, Math.floor(leaseMs / 4)));
  let timers: NodeJS.Timeout[] = [];
  let claiming = false;
  let renewing = false;
  const continuing = new Set<Promise<void>>();

  const renew = async () => {
    if (renewing) return;
    renewing = true;
    try {
      const expected = options.heldRunIds();
      const held = new Set(await store.system.runLeases.renew(instanceId, leaseMs, expected));
      // Read before the renewal: a run whose row appeared meanwhile is not judged this round.
      for (const runId of expected) if (!held.has(runId)) options.onLost(runId);
    } catch (error) {
      log.warn({ err: error }, 'could not renew run leases');
    } finally {
      renewing = false;
    }
  };

  const claim = async () => {
    if (claiming) return;
    claiming = true;
    try {
      const claims = await store.system.runLeases.claimLapsed(instanceId, leaseMs, 20);
      for (const claimed of claims) {
        const done = options
          .onClaimed(claimed)
          .catch((error) => log.error({ err: error, runId: claimed.runId }, 'takeover failed'))
          .finally(() => continuing.delete(done));
        continuing.add(done);
      }
    } catch (error) {
      log.warn({ err: error }, 'could not look for runs to take over');
    } finally {
      claiming = false;
    }
  };

  return {
    start() {
      if (timers.length > 0) return;
      timers = [setInterval(renew, renewEvery), setInterval(claim, claimEvery)];
      for (const timer of timers) timer.unref();
      // Runs left by an instance that died before this one started are taken at once.
      void claim();
    },
    async stop() {
      for (const timer of timers) clearInterval(timer);
      timers = [];
      await Promise.all([...continuing]);
    },
    /** Hands runs over (SIGTERM): their leases lapse now, and another instance continues them. */
    release(runIds: readonly string[]): Promise<number> {
      return store.system.runLeases.release(instanceId, runIds);
    },
  };
}

export type Ownership = ReturnType<typeof createOwnership>;
