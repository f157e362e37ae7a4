import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AgentConfigError } from '@parley/core';
import {
  findEntry,
  loadRegistry,
  type Registry,
  type RegistryEntry,
  readPluginPackage,
} from '@parley/plugin-kit';
import {
  type SandboxAuditEvent,
  type SandboxedPlugin,
  type SandboxPermissions,
  startSandboxedPlugin,
} from '@parley/sandbox';
import type { ScopeOptions } from '@parley/store';
import type { FastifyBaseLogger } from 'fastify';

/*
 * Plugins an operator installed in PARLEY_PLUGINS_DIR (one directory per package). They never
 * load into the server: each runs in @parley/sandbox, one process per workspace and plugin
 * (its environment holds that workspace's secrets), started on first use and kept for later
 * runs. The tier and the permissions enforced come from the registry (registry/plugins.json,
 * what was reviewed and agreed to); a plugin the registry does not list is community tier and
 * gets exactly what its own manifest declares. Archived plugins do not run.
 */

export interface InstalledPlugin {
  name: string;
  version: string;
  dir: string;
  entry: string;
}

/** What GET /v1/plugins shows of an installed community plugin. */
export interface InstalledPluginInfo extends InstalledPlugin {
  description: string | null;
  contract: number | null;
  tier: RegistryEntry['tier'];
  /** Enforced: the registry entry's grant, else what the plugin declares. */
  permissions: { network: string[]; secrets: string[] };
  entry: string;
  registered: RegistryEntry | undefined;
}

/** Who a call belongs to, so the process's audit events land in the right run's log. */
export interface CallOwner {
  runId: string;
  agentId: string;
  scope: ScopeOptions;
}

export interface CommunityPluginsOptions {
  /** PARLEY_PLUGINS_DIR; without it there are no community plugins. */
  dir: string | undefined;
  /** The registry the tiers come from (default: registry/plugins.json via @parley/plugin-kit). */
  registry?: () => Promise<Registry>;
  log: FastifyBaseLogger;
  /** Opens the egress proxy's outbound connections (public addresses only on multi-user servers). */
  connect?: Parameters<typeof startSandboxedPlugin>[0]['connect'];
  /** PARLEY_SANDBOX: the OS sandbox (default), or the weak mode an operator chose. */
  isolation?: 'os' | 'weak';
}

/** A workspace's running plugin process, with the secret values its environment holds. */
export type HeldSandbox = SandboxedPlugin & {
  /** Redacted from everything a run using it shows, whichever tool returns them. */
  readonly secretValues: readonly string[];
};

export interface WorkspaceBinding {
  workspaceId: string;
  /** Reads a workspace secret (audited as a plugin secret read by the caller). */
  secret: (name: string) => Promise<string | undefined>;
  audit: (event: SandboxAuditEvent, owner: CallOwner | undefined) => void;
}

function scan(dir: string | undefined): Map<string, string> {
  const found = new Map<string, string>();
  if (!dir) return found;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return found;
  }
  // Scoped packages live one level deeper (@scope/name), as in node_modules.
  for (const name of names) {
    const path = join(dir, name);
    if (!statSync(path).isDirectory()) continue;
    if (name.startsWith('@'))
      for (const inner of readdirSync(path)) found.set(`${name}/${inner}`, join(path, inner));
    else found.set(name, path);
  }
  return found;
}

export function createCommunityPlugins(options: CommunityPluginsOptions) {
  // Read once per process (the file ships with the server); a failed read is tried again.
  let loaded: Promise<Registry> | undefined;
  const registry =
    options.registry ??
    (() => {
      loaded ??= loadRegistry().catch((error: unknown) => {
        loaded = undefined;
        throw error;
      });
      return loaded;
    });
  /** Package directory by the name in its directory path; read again when a name is missing. */
  let dirs = scan(options.dir);
  const packages = new Map<string, Promise<InstalledPlugin | undefined>>();
  const sandboxes = new Map<string, Promise<HeldSandbox>>();
  /** The run each in-flight tool call belongs to, by tool call id. */
  const owners = new Map<string, CallOwner>();

  function installed(name: string): Promise<InstalledPlugin | undefined> {
    let found = packages.get(name);
    if (!found) {
      if (!dirs.has(name)) dirs = scan(options.dir);
      const dir = dirs.get(name);
      found = dir
        ? readPluginPackage(dir).then(({ pkg }) =>
            pkg?.name === name && pkg.version
              ? { name, version: pkg.version, dir: pkg.dir, entry: pkg.entry }
              : undefined,
          )
        : Promise.resolve(undefined);
      packages.set(name, found);
      // Not installed (yet): looked up again next time.
      void found.then((plugin) => plugin ?? packages.delete(name));
    }
    return found;
  }

  /** Unlisted plugins' own declarations, by name@version (asking costs a process start). */
  const declared = new Map<string, Promise<{ manifest: SandboxedPlugin['manifest'] }>>();
  function declaredBy(plugin: InstalledPlugin) {
    const key = `${plugin.name}@${plugin.version}`;
    let found = declared.get(key);
    if (!found) {
      // A throw-away process with no secrets and no network.
      found = startSandboxedPlugin({
        dir: plugin.dir,
        entry: plugin.entry,
        permissions: {},
        isolation: options.isolation ?? 'os',
        ...(options.connect ? { connect: options.connect } : {}),
      }).then(async (probe) => {
        await probe.stop();
        return { manifest: probe.manifest };
      });
      declared.set(key, found);
      found.catch(() => declared.delete(key));
    }
    return found;
  }

  /** What the sandbox enforces: the registry's reviewed permissions, else the plugin's own. */
  async function permissionsOf(plugin: InstalledPlugin): Promise<SandboxPermissions> {
    const entry = findEntry(await registry(), plugin.name);
    if (entry?.tier === 'archived')
      throw new AgentConfigError(
        `plugin ${plugin.name} is archived in the registry: it no longer runs on this server`,
      );
    if (entry) return { network: entry.permissions.network, secrets: entry.permissions.secrets };
    // Not listed: ask the plugin.
    const { manifest } = await declaredBy(plugin);
    return {
      network: manifest.permissions.network ?? [],
      secrets: manifest.permissions.secrets ?? [],
    };
  }

  async function start(plugin: InstalledPlugin, binding: WorkspaceBinding): Promise<HeldSandbox> {
    const permissions = await permissionsOf(plugin);
    const secrets: Record<string, string> = {};
    for (const name of permissions.secrets ?? []) {
      const value = await binding.secret(name);
      if (value !== undefined) secrets[name] = value;
    }
    const sandbox = await startSandboxedPlugin({
      dir: plugin.dir,
      entry: plugin.entry,
      permissions,
      secrets,
      isolation: options.isolation ?? 'os',
      onAudit: (event) =>
        binding.audit(event, event.toolCallId ? owners.get(event.toolCallId) : undefined),
      onLog: (entry) =>
        options.log[entry.level](
          { plugin: entry.plugin, workspaceId: binding.workspaceId },
          entry.message,
        ),
      ...(options.connect ? { connect: options.connect } : {}),
    });
    const declared = sandbox.manifest.permissions;
    const wider = [
      ...(declared.network ?? []).filter((h) => !(permissions.network ?? []).includes(h)),
      ...(declared.secrets ?? []).filter((s) => !(permissions.secrets ?? []).includes(s)),
    ];
    if (wider.length > 0) {
      await sandbox.stop();
      throw new AgentConfigError(
        `plugin ${plugin.name} now declares ${wider.join(', ')}, which its registry entry does not grant: it runs again once the registry is updated (and agreed to)`,
      );
    }
    options.log.info(
      {
        plugin: plugin.name,
        workspaceId: binding.workspaceId,
        isolation: sandbox.isolation,
        network: sandbox.network,
      },
      sandbox.network === 'namespace'
        ? 'community plugin started in its own network namespace'
        : 'community plugin started without a network namespace: raw sockets are blocked in the process only (docs/plugins/isolation.md)',
    );
    return Object.assign(sandbox, { secretValues: Object.values(secrets) });
  }

  return {
    /** The installed plugin by package name, or undefined. */
    installed,

    /**
     * Every plugin installed in PARLEY_PLUGINS_DIR, described for GET /v1/plugins. One that
     * cannot be read or loaded is left out (and logged): a listing never fails for it.
     */
    async list(): Promise<InstalledPluginInfo[]> {
      dirs = scan(options.dir);
      const reg = await registry().catch(() => undefined);
      const infos = await Promise.all(
        [...dirs.keys()].map(async (name): Promise<InstalledPluginInfo | undefined> => {
          try {
            const plugin = await installed(name);
            if (!plugin) return undefined;
            const registered = reg ? findEntry(reg, name) : undefined;
            const own = registered ? undefined : (await declaredBy(plugin)).manifest;
            return {
              ...plugin,
              description: registered?.description ?? own?.description ?? null,
              contract: registered?.contracts.at(-1) ?? own?.contract ?? null,
              tier: registered?.tier ?? 'community',
              permissions: {
                network: [...(registered?.permissions.network ?? own?.permissions.network ?? [])],
                secrets: [...(registered?.permissions.secrets ?? own?.permissions.secrets ?? [])],
              },
              registered,
            };
          } catch (error) {
            options.log.warn(
              { err: error, plugin: name },
              'an installed plugin could not be described',
            );
            return undefined;
          }
        }),
      );
      return infos.filter((info): info is InstalledPluginInfo => info !== undefined);
    },

    /** The workspace's running process of a plugin, started on first use. */
    sandbox(plugin: InstalledPlugin, binding: WorkspaceBinding): Promise<HeldSandbox> {
      const key = `${binding.workspaceId}\u0000${plugin.name}`;
      let sandbox = sandboxes.get(key);
      if (!sandbox) {
        sandbox = start(plugin, binding);
        sandboxes.set(key, sandbox);
        // A failed start is not kept: the next run tries again.
        sandbox.catch(() => sandboxes.delete(key));
      }
      return sandbox;
    },

    /** Records which run a tool call belongs to while it runs (for the audit log). */
    own(toolCallId: string, owner: CallOwner): () => void {
      owners.set(toolCallId, owner);
      return () => owners.delete(toolCallId);
    },

    /**
     * An operator disabled the plugin: its processes stop in every workspace (each holds that
     * workspace's secrets and could keep using the network while idle).
     */
    async stopPlugin(name: string) {
      const stopping: Promise<void>[] = [];
      for (const [key, sandbox] of sandboxes) {
        if (key.slice(key.indexOf('\u0000') + 1) !== name) continue;
        sandboxes.delete(key);
        stopping.push(sandbox.then((s) => s.stop()).catch(() => {}));
      }
      await Promise.all(stopping);
    },

    /** A workspace's secrets changed: its processes stop, the next run starts fresh ones. */
    async forget(workspaceId: string) {
      const stopping: Promise<void>[] = [];
      for (const [key, sandbox] of sandboxes) {
        if (!key.startsWith(`${workspaceId}\u0000`)) continue;
        sandboxes.delete(key);
        stopping.push(sandbox.then((s) => s.stop()).catch(() => {}));
      }
      await Promise.all(stopping);
    },

    async shutdown() {
      const all = [...sandboxes.values()];
      sandboxes.clear();
      await Promise.all(all.map((s) => s.then((x) => x.stop()).catch(() => {})));
    },
  };
}

export type CommunityPlugins = ReturnType<typeof createCommunityPlugins>;
