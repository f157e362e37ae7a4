import { lstatSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';

/*
 * A plugin package may not hold a symbolic link that leaves its directory: the permission
 * model follows links (a link to /proc/<pid>/environ read the server's environment), and
 * a package is code someone else wrote. Checked when a plugin loads and by the kit.
 */

/** At most this many entries are walked: a package larger than that is refused as such. */
const MAX_ENTRIES = 100_000;

export interface EscapingLink {
  /** The link, relative to the package directory. */
  path: string;
  /** What it points to, as written. */
  target: string;
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** The links under `dir` whose target (followed to its end) is outside `dir`, or dangling. */
export function escapingLinks(dir: string): EscapingLink[] {
  const root = realpathSync(dir);
  const found: EscapingLink[] = [];
  const pending = [root];
  let seen = 0;
  while (pending.length > 0) {
    const current = pending.pop()!;
    for (const name of readdirSync(current)) {
      if (++seen > MAX_ENTRIES)
        throw new Error(`the package in ${dir} holds more than ${MAX_ENTRIES} files`);
      const path = join(current, name);
      const stat = lstatSync(path);
      if (stat.isDirectory()) pending.push(path);
      if (!stat.isSymbolicLink()) continue;
      const target = readlinkSync(path);
      let end: string;
      try {
        end = realpathSync(path);
      } catch {
        end = resolve(dirname(path), target);
      }
      if (!inside(root, end) || !inside(root, resolve(dirname(path), target)))
        found.push({ path: relative(root, path), target });
    }
  }
  return found;
}
