import { type CounterBackend, createLocalCounters } from '@parley/cluster';
import type { SignalInput, Store } from '@parley/store';

/**
 * Watches what requests do and writes security signals: bursts of failed sign-ins or token
 * checks, a token used from a new address, probes of other workspaces, spikes of secret
 * decryption, and privilege changes. Counting is in memory per instance; signals are stored
 * (per workspace when one is known, else instance-wide) and counted in metrics.
 */
export interface DetectorOptions {
  store: Store;
  /** Reports every signal written (metrics, logs). */
  onSignal?: (kind: string, severity: SignalInput['severity']) => void;
  onError?: (error: unknown) => void;
  now?: () => number;
  /** Cross-workspace probes per caller per minute before a signal (default 5). */
  probeThreshold?: number;
  /** Secret decryptions per workspace per minute before a signal (default 60). */
  decryptThreshold?: number;
  /** Shared counters (a cluster); default: this process alone. */
  counters?: CounterBackend;
}

const MINUTE = 60_000;

export function createDetector(options: DetectorOptions) {
  const now = options.now ?? Date.now;
  const probeThreshold = options.probeThreshold ?? 5;
  const decryptThreshold = options.decryptThreshold ?? 60;
  const counters = options.counters ?? createLocalCounters(now);
  const pending = new Set<Promise<unknown>>();
  const track = (job: Promise<unknown>) => {
    const tracked = job
      .catch((error) => options.onError?.(error))
      .finally(() => pending.delete(tracked));
    pending.add(tracked);
  };

  /**
   * Counts an occurrence in a one-minute window (cluster-wide); `then` runs exactly once, on
   * one instance, when the count reaches `threshold`. In the background: no request waits.
   */
  const whenCrossed = (key: string, threshold: number, then: (count: number) => void) =>
    track(
      counters.hit(`signal:${key}`, MINUTE).then(({ count }) => {
        if (count === threshold) then(count);
      }),
    );

  const write = (workspaceId: string | undefined, signal: SignalInput) => {
    const job = (
      workspaceId
        ? options.store.withWorkspace(workspaceId, (ws) => ws.securitySignals.record(signal), {
            actor: { type: 'system' },
          })
        : options.store.system.securitySignals.record(signal)
    )
      .then(() => options.onSignal?.(signal.kind, signal.severity))
      .catch((error) => options.onError?.(error))
      .finally(() => pending.delete(job));
    pending.add(job);
  };

  return {
    /** A sign-in or token check was refused so often that the address is now blocked. */
    authFailureBurst(ip: string, failures: number, what: 'login' | 'token') {
      write(undefined, {
        kind: 'auth.failure_burst',
        severity: 'warning',
        ip,
        details: { failures, what, windowSeconds: 60 },
      });
    },

    /**
     * An account failed sign-in so often, from however many addresses, that it is now blocked:
     * password spraying, or someone keeping its owner out (audit A-17).
     */
    accountFailureBurst(email: string, failures: number) {
      write(undefined, {
        kind: 'auth.failure_burst',
        severity: 'warning',
        details: { failures, what: 'account', account: email, windowSeconds: 900 },
      });
    },

    /** Someone became an instance operator with a one-time code: every operator should know. */
    operatorConfirmed(userId: string, email: string, ip: string) {
      write(undefined, {
        kind: 'operator.confirmed',
        severity: 'warning',
        ip,
        actor: { type: 'user', id: userId },
        details: { email },
      });
    },

    /** A wrong or used operator code: someone listed is guessing, or someone took their address. */
    operatorCodeRefused(userId: string, ip: string) {
      write(undefined, {
        kind: 'operator.code_refused',
        severity: 'warning',
        ip,
        actor: { type: 'user', id: userId },
      });
    },

    /** A known token (revoked or expired) was presented: its workspace should know. */
    staleTokenUsed(workspaceId: string, tokenId: string, reason: string, ip: string) {
      whenCrossed(`stale:${tokenId}`, 1, () =>
        write(workspaceId, {
          kind: 'token.stale_use',
          severity: 'warning',
          ip,
          actor: { type: 'token', id: tokenId },
          details: { reason },
        }),
      );
    },

    tokenNewAddress(workspaceId: string, tokenId: string, ip: string) {
      write(workspaceId, {
        kind: 'token.new_address',
        severity: 'info',
        ip,
        actor: { type: 'token', id: tokenId },
      });
    },

    /**
     * A caller asked for a workspace (or a run) that is not theirs. One miss is a typo; a
     * handful in a minute is a probe.
     */
    crossWorkspaceProbe(
      caller: { type: 'user' | 'token'; id: string; workspaceId?: string },
      ip: string,
      target: string,
    ) {
      whenCrossed(`probe:${caller.type}:${caller.id}`, probeThreshold, (count) =>
        write(caller.workspaceId, {
          kind: 'workspace.cross_probe',
          severity: 'warning',
          ip,
          actor: { type: caller.type, id: caller.id },
          details: { misses: count, lastTarget: target.slice(0, 200) },
        }),
      );
    },

    secretDecrypted(workspaceId: string, ip: string | undefined) {
      whenCrossed(`decrypt:${workspaceId}`, decryptThreshold, (count) =>
        write(workspaceId, {
          kind: 'secret.decrypt_spike',
          severity: 'warning',
          ...(ip ? { ip } : {}),
          details: { decryptions: count, windowSeconds: 60 },
        }),
      );
    },

    privilegeChange(
      workspaceId: string,
      actor: { type: 'user' | 'token'; id: string },
      ip: string,
      details: Record<string, string | number | boolean>,
    ) {
      write(workspaceId, {
        kind: 'privilege.change',
        severity: 'info',
        ip,
        actor,
        details,
      });
    },

    /** Waits for signals still being written (tests, shutdown). */
    async flush() {
      // Counting may start a write: wait until neither is left.
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}

export type Detector = ReturnType<typeof createDetector>;
