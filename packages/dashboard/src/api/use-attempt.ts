import { useCallback, useState } from 'react';

export interface Attempt {
  /** What the last action threw (undefined once the next one starts). */
  error: unknown;
  /** True while an action runs. */
  busy: boolean;
  /** Runs `action`, keeping what it throws in `error`; true when it succeeded. */
  attempt(action: () => Promise<unknown>): Promise<boolean>;
}

/**
 * A view's changes (save, delete, deploy): each clears the last failure, runs, and shows its
 * own failure in the view's banner instead of throwing.
 */
export function useAttempt(): Attempt {
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const attempt = useCallback(async (action: () => Promise<unknown>) => {
    setError(undefined);
    setBusy(true);
    try {
      await action();
      return true;
    } catch (caught) {
      setError(caught);
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { error, busy, attempt };
}
