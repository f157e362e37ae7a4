import { isAbsolute, join, relative, resolve } from 'node:path';
import { SandboxStartError } from './errors.ts';
import { type Isolation, type NetworkIsolation, namespaceCommand } from './launch.ts';
import { osSandboxStatus } from './os/bubblewrap.ts';
import { escapingLinks } from './package-links.ts';
import type { StartSandboxedPluginOptions } from './sandboxed-plugin-types.ts';

/*
 * What is settled before a plugin process starts: its entry is inside its directory and no
 * link leaves it, only its declared secrets (under names that cannot steer Node) go in, and
 * which sandbox and network containment this host gives it. Each refusal is a
 * SandboxStartError that says what to change.
 */

/** The sandbox a start asked for, as this host can give it. */
function resolveIsolation(wanted: Isolation | 'auto'): Isolation {
  if (wanted === 'weak') return 'weak';
  const status = osSandboxStatus();
  if (status.available) return 'os';
  if (wanted === 'auto') return 'weak';
  throw new SandboxStartError(
    `this host cannot provide the OS sandbox for community plugins: ${status.reason}. Install bubblewrap, or accept the weaker Node-permission sandbox with PARLEY_SANDBOX=weak (docs/plugins/isolation.md)`,
  );
}

/** Names a secret may not have: they would change how the child's Node starts or routes. */
const RESERVED_ENV = /^(NODE_|UV_|HTTPS?_PROXY$|NO_PROXY$|LD_|DYLD_)/i;

export interface PreparedPlugin {
  dir: string;
  entry: string;
  /** The declared secrets that have a value. */
  secrets: Record<string, string>;
  isolation: Isolation;
  network: NetworkIsolation;
}

export function preparePlugin(options: StartSandboxedPluginOptions): PreparedPlugin {
  const dir = resolve(options.dir);
  const entry = isAbsolute(options.entry) ? options.entry : join(dir, options.entry);
  const inside = relative(dir, entry);
  if (inside.startsWith('..') || isAbsolute(inside))
    throw new SandboxStartError(
      `the entry ${options.entry} is outside the plugin directory ${dir}`,
    );
  const links = escapingLinks(dir);
  if (links.length > 0)
    throw new SandboxStartError(
      `the plugin in ${dir} holds links that leave its directory (${links
        .slice(0, 3)
        .map((link) => `${link.path} -> ${link.target}`)
        .join(', ')}): a package may only link inside itself`,
    );
  const declared = options.permissions.secrets ?? [];
  const secrets: Record<string, string> = {};
  for (const name of declared) {
    if (RESERVED_ENV.test(name))
      throw new SandboxStartError(`a plugin secret may not be named ${name}`);
    const value = options.secrets?.[name];
    if (value !== undefined) secrets[name] = value;
  }
  const isolation = resolveIsolation(options.isolation ?? 'os');
  const wanted = options.network ?? 'auto';
  const network: NetworkIsolation =
    isolation === 'os'
      ? 'namespace'
      : wanted === 'proxy-only'
        ? 'proxy-only'
        : namespaceCommand()
          ? 'namespace'
          : 'proxy-only';
  if (wanted === 'namespace' && network !== 'namespace')
    throw new SandboxStartError('this host cannot create a network namespace (unshare)');
  return { dir, entry, secrets, isolation, network };
}
