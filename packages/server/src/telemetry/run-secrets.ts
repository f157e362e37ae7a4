/**
 * The secret value sets of a trace's watched runs. A trace's list is replaced, never changed,
 * when a run starts or stops being watched, so that what is derived from it can be kept by it.
 */
export type WatchedSecrets = readonly ReadonlySet<string>[];

const runSecrets = new Map<string, WatchedSecrets>();

/**
 * Makes the run's secret values (its model keys, what its plugins and MCP servers read from
 * the vault) scrubbed from every span of its trace that ends until the returned function is
 * called. The set is read when a span ends, so values a plugin reads later count too (the
 * set only grows while the run is watched).
 */
export function watchRunSecrets(traceId: string, values: ReadonlySet<string>): () => void {
  runSecrets.set(traceId, [...(runSecrets.get(traceId) ?? []), values]);
  return () => {
    const left = (runSecrets.get(traceId) ?? []).filter((set) => set !== values);
    if (left.length > 0) runSecrets.set(traceId, left);
    else runSecrets.delete(traceId);
  };
}

/** The secret sets of the runs of a trace that are being watched, if any. */
export function watchedSecrets(traceId: string): WatchedSecrets | undefined {
  return runSecrets.get(traceId);
}
