import dc from 'node:diagnostics_channel';
import net from 'node:net';
import { sep } from 'node:path';
import { pathToFileURL } from 'node:url';

/** What a plugin touched outside its tool context, as seen from inside the kit's probe. */
export interface AccessLog {
  /** Environment variables read by the plugin's own code (not by Node or its dependencies). */
  env: Set<string>;
  /** Connections opened directly (not through ctx.fetch); every one is refused. */
  network: Set<string>;
  /** What Node's permission model denied: writes outside the plugin directory, child processes. */
  denied: { permission: string; resource: string }[];
}

/** The first stack frame that is neither Node's nor this file's: who is reading. */
function callerFile(): string | undefined {
  const frames = (new Error().stack ?? '').split('\n').slice(1);
  for (const frame of frames) {
    if (frame.includes('node:') || frame.includes(import.meta.url)) continue;
    const m = /\(?((?:file:\/\/)?\/[^):]+)(?::\d+){0,2}\)?\s*$/.exec(frame);
    if (m) return m[1];
  }
  return undefined;
}

/**
 * Starts recording, before the plugin is imported: `process.env` becomes a proxy that notes
 * reads made from the plugin's own files, every outgoing TCP connection is noted and refused
 * (the kit never reaches the network; ctx.fetch gets a stand-in), and the permission model's
 * denials are collected from its diagnostics channel.
 */
export function recordAccess(pluginDir: string): AccessLog {
  const log: AccessLog = { env: new Set(), network: new Set(), denied: [] };
  const roots = [pluginDir + sep, `${pathToFileURL(pluginDir).href}/`];
  const dependencies = roots.map((root) => `${root}node_modules/`);
  const fromPlugin = () => {
    const file = callerFile();
    return (
      file !== undefined &&
      roots.some((root) => file.startsWith(root)) &&
      !dependencies.some((dir) => file.startsWith(dir))
    );
  };
  const env = process.env;
  process.env = new Proxy(env, {
    get(target, key) {
      if (typeof key === 'string' && fromPlugin()) log.env.add(key);
      return Reflect.get(target, key);
    },
    has(target, key) {
      if (typeof key === 'string' && fromPlugin()) log.env.add(key);
      return Reflect.has(target, key);
    },
    ownKeys(target) {
      if (fromPlugin()) log.env.add('*');
      return Reflect.ownKeys(target);
    },
  });

  net.Socket.prototype.connect = function refuse(this: net.Socket, ...args: unknown[]) {
    const [first, second] = args;
    const options = (Array.isArray(first) ? first[0] : first) as
      | { host?: string; port?: number; path?: string }
      | number
      | string;
    const where =
      typeof options === 'object' && options !== null
        ? (options.path ?? `${options.host ?? 'localhost'}:${options.port ?? '?'}`)
        : typeof options === 'number'
          ? `${typeof second === 'string' ? second : 'localhost'}:${options}`
          : String(options);
    log.network.add(where);
    process.nextTick(() =>
      this.destroy(new Error(`the plugin kit refuses direct connections (to ${where})`)),
    );
    return this;
  } as typeof net.Socket.prototype.connect;

  for (const channel of ['fs', 'child', 'worker', 'addon', 'wasi', 'inspector']) {
    dc.subscribe(`node:permission-model:${channel}`, (message) => {
      const { permission, resource } = message as { permission?: string; resource?: string };
      log.denied.push({ permission: permission ?? channel, resource: resource ?? '' });
    });
  }
  return log;
}
