/** The secret values of each traced run, by trace id, while its spans may still end. */
const runSecrets = new Map<string, ReadonlySet<string>[]>();

/**
 * Makes the run's secret values (its model keys, what its plugins and MCP servers read from
 * the vault) scrubbed from every span of its trace that ends until the returned function is
 * called. The set is read when a span ends, so values a plugin reads later count too.
 */
export function watchRunSecrets(traceId: string, values: ReadonlySet<string>): () => void {
  const sets = runSecrets.get(traceId) ?? [];
  sets.push(values);
  runSecrets.set(traceId, sets);
  return () => {
    const left = (runSecrets.get(traceId) ?? []).filter((set) => set !== values);
    if (left.length > 0) runSecrets.set(traceId, left);
    else runSecrets.delete(traceId);
  };
}

/** Every secret value of the runs of a trace that are being watched. */
export function secretsOfTrace(traceId: string): string[] {
  return (runSecrets.get(traceId) ?? []).flatMap((set) => [...set]);
}
