/** A person's answer to `tool.approval_requested`. */
export type ApprovalDecision = 'approved' | 'denied';

/**
 * Where approval decisions come from. The server resolves them from an API call; tests and
 * the CLI can answer directly. `wait` resolves `denied` when the timeout passes or the
 * signal aborts, so a forgotten approval never hangs a run.
 */
export function createApprovalGate() {
  const pending = new Map<string, (decision: ApprovalDecision) => void>();
  return {
    wait(
      approvalId: string,
      timeoutMs: number,
      signal: AbortSignal,
    ): Promise<ApprovalDecision | 'timeout'> {
      return new Promise((resolve) => {
        const finish = (decision: ApprovalDecision | 'timeout') => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          pending.delete(approvalId);
          resolve(decision);
        };
        const onAbort = () => finish('denied');
        const timer = setTimeout(() => finish('timeout'), timeoutMs);
        signal.addEventListener('abort', onAbort, { once: true });
        pending.set(approvalId, finish);
      });
    },
    /** Records a decision; returns false when no run waits for this approval (unknown or expired). */
    decide(approvalId: string, decision: ApprovalDecision): boolean {
      const resolve = pending.get(approvalId);
      if (!resolve) return false;
      resolve(decision);
      return true;
    },
  };
}
export type ApprovalGate = ReturnType<typeof createApprovalGate>;
