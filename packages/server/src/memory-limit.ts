import { readFileSync } from 'node:fs';
import { join } from 'node:path';

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

/** Where the kernel tells a process about its control groups (a test points elsewhere). */
export interface CgroupPaths {
  /** `/proc/self/cgroup`. */
  self: string;
  /** The cgroup file systems' mount point, `/sys/fs/cgroup`. */
  root: string;
}

const SYSTEM: CgroupPaths = { self: '/proc/self/cgroup', root: '/sys/fs/cgroup' };

/** cgroup v1 writes "no limit" as a page-rounded 2^63 − 1; anything this large is none. */
const UNLIMITED_V1 = 2 ** 60;

function readLimit(file: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch {
    return undefined; // not this layout, or not this level
  }
  if (text === 'max') return undefined;
  const bytes = Number(text);
  return Number.isFinite(bytes) && bytes < UNLIMITED_V1 ? bytes : undefined;
}

/** The directory and its ancestors up to the mount point, as paths under `mount`. */
function levels(mount: string, path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  return parts.map((_, i) => join(mount, ...parts.slice(0, i + 1))).concat(mount);
}

/**
 * The memory this process may use under its control groups (cgroup v2, or v1's memory
 * controller), in bytes: the smallest limit on its group or any group above it, or undefined
 * when none is set or the system has no cgroups (not Linux). A container sees its own group
 * at the mount point, so that level is read too.
 */
export function cgroupMemoryLimit(paths: CgroupPaths = SYSTEM): number | undefined {
  let membership: string;
  try {
    membership = readFileSync(paths.self, 'utf8');
  } catch {
    return undefined;
  }
  const files: string[] = [];
  for (const line of membership.split('\n')) {
    const [id, controllers = '', path = '/'] = line.split(':');
    if (id === '0' && controllers === '')
      files.push(...levels(paths.root, path).map((dir) => join(dir, 'memory.max')));
    else if (controllers.split(',').includes('memory'))
      files.push(
        ...levels(join(paths.root, 'memory'), path).map((dir) =>
          join(dir, 'memory.limit_in_bytes'),
        ),
      );
  }
  const limits = files.map(readLimit).filter((limit) => limit !== undefined);
  return limits.length > 0 ? Math.min(...limits) : undefined;
}

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
