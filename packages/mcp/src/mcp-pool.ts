import type { McpServerRef } from '@parley/core';
import {
  type ConnectMcpOptions,
  connectOne,
  type McpConnection,
  type McpConnections,
} from './mcp-tools.ts';

interface Entry {
  scope: string;
  connection: Promise<McpConnection>;
  /** Runs using it now; at 0 the idle timer runs. */
  users: number;
  timer?: NodeJS.Timeout;
}

/**
 * MCP connections kept across runs: a stdio server is started once per scope (a workspace) and
 * server definition, not once per run, and closed after `idleMs` without a run, when its scope
 * forgets it (the workspace's secrets changed: they may be in its environment), or at shutdown.
 * A server that exits or disconnects is dropped; the next run connects again.
 */
export function createMcpPool(options: { idleMs?: number } = {}) {
  const idleMs = options.idleMs ?? 5 * 60_000;
  const entries = new Map<string, Entry>();

  const drop = (key: string, entry: Entry) => {
    if (entries.get(key) === entry) entries.delete(key);
    clearTimeout(entry.timer);
    void entry.connection.then(
      ({ client }) => client.close().catch(() => {}),
      () => {},
    );
  };
  const release = (key: string, entry: Entry) => {
    entry.users--;
    if (entry.users > 0) return;
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => drop(key, entry), idleMs);
    entry.timer.unref();
  };

  function acquire(scope: string, server: McpServerRef, connect: ConnectMcpOptions) {
    const key = JSON.stringify([scope, connect.callTimeoutMs, server]);
    let entry = entries.get(key);
    if (!entry) {
      const created: Entry = { scope, users: 0, connection: connectOne(server, connect) };
      entries.set(key, created);
      created.connection.then(
        ({ client }) => {
          client.onclose = () => {
            if (entries.get(key) === created) entries.delete(key);
          };
        },
        () => {
          if (entries.get(key) === created) entries.delete(key);
        },
      );
      entry = created;
    }
    entry.users++;
    clearTimeout(entry.timer);
    return { key, entry };
  }

  return {
    /** The servers' tools for one run; `close()` hands the connections back to the pool. */
    async connect(
      scope: string,
      servers: readonly McpServerRef[],
      connect: ConnectMcpOptions,
    ): Promise<McpConnections> {
      const held = servers.map((server) => acquire(scope, server, connect));
      let released = false;
      const close = async () => {
        if (released) return;
        released = true;
        for (const { key, entry } of held) release(key, entry);
      };
      try {
        const connected = await Promise.all(held.map(({ entry }) => entry.connection));
        return {
          tools: connected.flatMap((c) => c.tools),
          secrets: connected.flatMap((c) => c.secrets),
          close,
        };
      } catch (error) {
        await close();
        throw error;
      }
    },

    /** Closes the scope's connections (its secrets changed). */
    forget(scope: string) {
      for (const [key, entry] of entries) if (entry.scope === scope) drop(key, entry);
    },

    shutdown() {
      for (const [key, entry] of entries) drop(key, entry);
    },
  };
}

export type McpPool = ReturnType<typeof createMcpPool>;
