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
}

const MINUTE = 60_000;

export function createDetector(options: DetectorOptions) {
  const now = options.now ?? Date.now;
  const probeThreshold = options.probeThreshold ?? 5;
  const decryptThreshold = options.decryptThreshold ?? 60;
  const windows = new Map<string, { start: number; count: number; signalled: boolean }>();
  const pending = new Set<Promise<unknown>>();

  /** Counts an occurrence in a one-minute window; true exactly once when it reaches `threshold`. */
  const crosses = (key: string, threshold: number): { crossed: boolean; count: number } => {
    const t = now();
    let w = windows.get(key);
    if (!w || w.start <= t - MINUTE) {
      if (windows.size > 50_000) windows.clear();
      w = { start: t, count: 0, signalled: false };
      windows.set(key, w);
    }
    w.count += 1;
    if (w.count >= threshold && !w.signalled) {
      w.signalled = true;
      return { crossed: true, count: w.count };
    }
    return { crossed: false, count: w.count };
  };

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
      const { crossed } = crosses(`stale:${tokenId}`, 1);
      if (!crossed) return;
      write(workspaceId, {
        kind: 'token.stale_use',
        severity: 'warning',
        ip,
        actor: { type: 'token', id: tokenId },
        details: { reason },
      });
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
      const { crossed, count } = crosses(`probe:${caller.type}:${caller.id}`, probeThreshold);
      if (!crossed) return;
      write(caller.workspaceId, {
        kind: 'workspace.cross_probe',
        severity: 'warning',
        ip,
        actor: { type: caller.type, id: caller.id },
        details: { misses: count, lastTarget: target.slice(0, 200) },
      });
    },

    secretDecrypted(workspaceId: string, ip: string | undefined) {
      const { crossed, count } = crosses(`decrypt:${workspaceId}`, decryptThreshold);
      if (!crossed) return;
      write(workspaceId, {
        kind: 'secret.decrypt_spike',
        severity: 'warning',
        ...(ip ? { ip } : {}),
        details: { decryptions: count, windowSeconds: 60 },
      });
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
      await Promise.all([...pending]);
    },
  };
}

export type Detector = ReturnType<typeof createDetector>;
