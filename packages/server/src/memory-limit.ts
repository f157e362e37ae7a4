const MB = 1024 * 1024;

/**
 * What a server on the embedded database reaches for a moment while it starts, and the limit
 * under which it says so. V8 optimizing PGlite's WebAssembly (PostgreSQL's SQL parser alone
 * takes ~640 MB of compiler memory) is most of it. Measured under cgroup limits: a first start,
 * which creates and migrates the database, peaks at ~1,070 MB (killed under 1 GB, ran under
 * 1.25 GB); a later one at ~750 MB (killed under 640 MB, ran under 768 MB). docs/deploy.md.
 */
export const EMBEDDED_DATABASE_MEMORY = {
  first: { peakBytes: 1_100 * MB, allowBytes: 1_536 * MB },
  later: { peakBytes: 800 * MB, allowBytes: 1_024 * MB },
} as const;

/**
 * A warning for a server about to open the embedded database under a memory limit too close
 * to its start-up peak (`first`: it creates the database), or undefined: said before the
 * database opens, so that it is the last line a user reads if the kernel stops the process.
 */
export function embeddedDatabaseMemoryWarning(
  limit: number | undefined,
  first: boolean,
): string | undefined {
  const { peakBytes, allowBytes } = EMBEDDED_DATABASE_MEMORY[first ? 'first' : 'later'];
  if (limit === undefined || limit >= allowBytes) return undefined;
  const mb = (bytes: number) => Math.round(bytes / MB).toLocaleString('en-US');
  const when = first ? 'while it creates its data directory' : 'while it starts';
  return (
    `this process may use ${mb(limit)} MB (its cgroup's memory limit), and the embedded ` +
    `database needs ~${mb(peakBytes)} MB for a moment ${when}: the system may stop the ` +
    `server. Allow ${mb(allowBytes)} MB, or use PostgreSQL (PARLEY_DATABASE_URL).`
  );
}
