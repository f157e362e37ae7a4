import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type EscapingLink, escapingLinks } from '@parley/sandbox';
import semver from 'semver';
import { fail, type KitCheck, pass } from './result.ts';

export const CORE_PACKAGE = '@parley/core';

/**
 * Bounded means some far-future core falls outside the range: `*`, `latest`, `>=0.1.0`,
 * `workspace:*` and dist-tags are refused, so a future core cannot break the plugin silently.
 */
export function isBoundedRange(range: string): boolean {
  const valid = semver.validRange(range);
  return valid !== null && !semver.satisfies('999999.0.0', valid);
}

/**
 * A package may hold no link that leaves its directory: the sandbox refuses it at load (a link
 * to /proc/<pid>/environ read a server's environment), so the kit refuses it before install.
 */
function linksCheck(dir: string): KitCheck {
  let links: EscapingLink[];
  try {
    links = escapingLinks(dir);
  } catch (error) {
    return fail('manifest', 'manifest.links', (error as Error).message);
  }
  if (links.length === 0) return pass('manifest', 'manifest.links', 'no link leaves the package');
  const shown = links.slice(0, 5).map((link) => `${link.path} -> ${link.target}`);
  return fail(
    'manifest',
    'manifest.links',
    `links leave the package (${shown.join(', ')}): ship the files themselves, or links inside the package`,
  );
}

/** What the kit reads from a plugin's package.json. */
export interface PluginPackage {
  dir: string;
  name: string | null;
  version: string | null;
  /** The module the kit imports: `exports["."]`, else `main`, else src/index.ts. */
  entry: string;
  /** `peerDependencies["@parley/core"]`, which must mirror the plugin's `core` range. */
  peerCore: string | null;
  /** `parley.kitConfig`: the config a factory-style plugin is built with for the kit. */
  kitConfig: Record<string, unknown> | undefined;
}

function entryOf(json: Record<string, unknown>): string | undefined {
  const exported = json.exports;
  if (typeof exported === 'string') return exported;
  if (exported && typeof exported === 'object') {
    const dot = (exported as Record<string, unknown>)['.'] ?? exported;
    if (typeof dot === 'string') return dot;
    if (dot && typeof dot === 'object') {
      const conditions = dot as Record<string, unknown>;
      const pick = conditions.import ?? conditions.default ?? conditions.node;
      if (typeof pick === 'string') return pick;
    }
  }
  return typeof json.main === 'string' ? json.main : undefined;
}

/** Reads and checks package.json: the entry exists, @parley/core is a bounded peer. */
export async function readPluginPackage(
  dirGiven: string,
): Promise<{ pkg: PluginPackage | null; checks: KitCheck[] }> {
  const dir = resolve(dirGiven);
  const checks: KitCheck[] = [];
  const file = join(dir, 'package.json');
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    const why =
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? `there is no package.json in ${dir}`
        : `package.json is not valid JSON (${(error as Error).message})`;
    checks.push(fail('manifest', 'manifest.package-json', `${why}: is this a plugin directory?`));
    return { pkg: null, checks };
  }
  const name = typeof json.name === 'string' ? json.name : null;
  const version = typeof json.version === 'string' ? json.version : null;
  checks.push(
    name && version
      ? pass('manifest', 'manifest.package-json', `package ${name}@${version}`)
      : fail('manifest', 'manifest.package-json', 'package.json needs a "name" and a "version"'),
  );

  const entryField = entryOf(json) ?? 'src/index.ts';
  const entry = resolve(dir, entryField);
  checks.push(
    existsSync(entry)
      ? pass('manifest', 'manifest.entry', `entry ${entryField}`)
      : fail(
          'manifest',
          'manifest.entry',
          `the entry ${entryField} does not exist: set "exports": { ".": "./src/index.ts" } in package.json`,
        ),
  );

  const peers = (json.peerDependencies ?? {}) as Record<string, unknown>;
  const deps = (json.dependencies ?? {}) as Record<string, unknown>;
  const peerCore = typeof peers[CORE_PACKAGE] === 'string' ? (peers[CORE_PACKAGE] as string) : null;
  if (CORE_PACKAGE in deps) {
    checks.push(
      fail(
        'manifest',
        'manifest.peer-range',
        `${CORE_PACKAGE} is in "dependencies": move it to "peerDependencies" so the agent's one copy of core is shared`,
      ),
    );
  } else if (peerCore === null) {
    checks.push(
      fail(
        'manifest',
        'manifest.peer-range',
        `package.json has no peerDependencies["${CORE_PACKAGE}"]: declare a bounded range such as "^0.1.0"`,
      ),
    );
  } else if (!isBoundedRange(peerCore)) {
    checks.push(
      fail(
        'manifest',
        'manifest.peer-range',
        `peerDependencies["${CORE_PACKAGE}"] is "${peerCore}", which has no upper bound: declare e.g. "^0.1.0"`,
      ),
    );
  } else {
    checks.push(pass('manifest', 'manifest.peer-range', `peer ${CORE_PACKAGE} ${peerCore}`));
  }

  checks.push(linksCheck(dir));

  const parley = (json.parley ?? {}) as Record<string, unknown>;
  const kitConfig =
    parley.kitConfig && typeof parley.kitConfig === 'object'
      ? (parley.kitConfig as Record<string, unknown>)
      : undefined;
  return { pkg: { dir, name, version, entry, peerCore, kitConfig }, checks };
}
