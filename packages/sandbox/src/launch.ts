import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PLUGIN_SDK_ENTRY, PLUGIN_SDK_FILES } from '@parley/core/plugin-sdk-files';
import { createJail, type JailLimits } from './os/bubblewrap.ts';

/*
 * How a sandboxed plugin's process is started. The boundary is the OS sandbox (./os/: its own
 * namespaces, a read-only root of the runtime, the plugin's directory and the runner, seccomp,
 * limits), with the network namespace's only way out the parent's egress proxy. Inside it, as
 * a second layer, the Node permission model (reads limited to those paths, writes to the
 * plugin's directory or nowhere, no child processes, workers, addons or WASI) and an
 * environment holding only the declared secrets and the proxy settings.
 *
 * The weak mode (PARLEY_SANDBOX=weak, for hosts without the OS sandbox) keeps only the second
 * layer, plus a network namespace from `unshare` where the host allows one.
 */

const here = dirname(fileURLToPath(import.meta.url));
export const RUNNER = join(here, 'child', 'runner.ts');
/** The port the in-namespace forwarder listens on: the namespace is the child's alone. */
const NAMESPACE_PROXY_PORT = 3128;

const require = createRequire(import.meta.url);

/** The directory of an installed package, symlinks resolved (the permission model sees real paths). */
function packageDir(name: string, from = require): string {
  let dir = dirname(from.resolve(name));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return realpathSync(dir);
}

/** Everything the runner itself reads: itself, the MCP server SDK and zod, the plugin SDK. */
function runnerReads(): { paths: string[]; pluginSdk: string } {
  const pluginSdk = realpathSync(fileURLToPath(PLUGIN_SDK_ENTRY));
  const sdk = packageDir('@modelcontextprotocol/server');
  const sdkRequire = createRequire(join(sdk, 'package.json'));
  return {
    pluginSdk,
    paths: [
      realpathSync(join(here, 'child')),
      sdk,
      packageDir('@modelcontextprotocol/core', sdkRequire),
      packageDir('zod'),
      ...PLUGIN_SDK_FILES.map((file) => realpathSync(fileURLToPath(file))),
    ],
  };
}

export type NetworkIsolation = 'namespace' | 'proxy-only';
/** `os`: the OS sandbox (bubblewrap); `weak`: the Node permission model alone. */
export type Isolation = 'os' | 'weak';

let namespaceProbe: string[] | null | undefined;
/**
 * The `unshare` arguments that give a process its own network namespace here, or null: as root
 * `unshare -n`, otherwise `unshare -r -n` where user namespaces are allowed. Probed once.
 */
export function namespaceCommand(): string[] | null {
  if (namespaceProbe !== undefined) return namespaceProbe;
  namespaceProbe = null;
  if (process.platform !== 'linux') return null;
  const ip = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((p) => existsSync(p));
  if (!ip) return null;
  for (const flags of [['-n'], ['-r', '-n']]) {
    const probe = spawnSync('unshare', [...flags, ip, 'link', 'set', 'lo', 'up'], {
      stdio: 'ignore',
      timeout: 5_000,
    });
    if (probe.status === 0) {
      namespaceProbe = [
        'unshare',
        ...flags,
        '/bin/sh',
        '-c',
        `${ip} link set lo up && exec "$0" "$@"`,
      ];
      break;
    }
  }
  return namespaceProbe;
}

export interface LaunchOptions {
  /** The plugin's directory (absolute): the only place it may read, and write if allowed. */
  dir: string;
  /** The plugin's entry module, inside `dir`. */
  entry: string;
  /** Declared secret names with their values (only these reach the child's environment). */
  secrets: Record<string, string>;
  /** Allow writes to the plugin's directory (default: no writes anywhere). */
  writeDir: boolean;
  /** V8's old-generation heap limit in MB: past it the process dies (a crash, restarted). */
  heapMb: number;
  /** The egress proxy: its loopback URL and, for a namespace, its Unix socket. */
  proxyUrl: string;
  proxySocket?: string;
  network: NetworkIsolation;
  isolation: Isolation;
  limits?: Partial<JailLimits>;
}

export interface Launch {
  command: string;
  args: string[];
  env: Record<string, string>;
  /** Frees what the launch made on the host once its process has exited. */
  release(): void;
}

export function buildLaunch(options: LaunchOptions): Launch {
  const { paths, pluginSdk } = runnerReads();
  const dir = realpathSync(options.dir);
  const entry = realpathSync(options.entry);
  const inNamespace =
    (options.isolation === 'os' || options.network === 'namespace') &&
    options.proxySocket !== undefined;
  const proxy = inNamespace ? `http://127.0.0.1:${NAMESPACE_PROXY_PORT}` : options.proxyUrl;
  const nodeArgs = [
    '--permission',
    ...[dir, ...paths].map((path) => `--allow-fs-read=${path}`),
    ...(options.writeDir ? [`--allow-fs-write=${dir}`] : []),
    `--max-old-space-size=${options.heapMb}`,
    '--disable-warning=ExperimentalWarning',
    RUNNER,
    JSON.stringify({
      dir,
      entry,
      pluginSdk,
      secrets: Object.keys(options.secrets),
      ...(inNamespace
        ? { forward: { socketPath: options.proxySocket, port: NAMESPACE_PROXY_PORT } }
        : {}),
    }),
  ];
  const env: Record<string, string> = {
    ...options.secrets,
    NODE_USE_ENV_PROXY: '1',
    HTTP_PROXY: proxy,
    HTTPS_PROXY: proxy,
    http_proxy: proxy,
    https_proxy: proxy,
    NO_PROXY: '',
    no_proxy: '',
  };
  if (options.isolation === 'os') {
    // The heap limit stops V8 first; the jail's memory limit is the heap plus room for what
    // lives outside it (buffers, code, WebAssembly).
    const jail = createJail({
      command: process.execPath,
      args: nodeArgs,
      cwd: dir,
      read: [dir, ...paths],
      write: options.writeDir ? [dir] : [],
      own: options.proxySocket ? [dirname(options.proxySocket)] : [],
      limits: { memoryMb: options.heapMb + 256, ...options.limits },
    });
    return {
      command: jail.command,
      args: jail.args,
      env,
      release: jail.release,
    };
  }
  const release = () => {};
  if (inNamespace) {
    const [command, ...prefix] = namespaceCommand()!;
    return { command: command!, args: [...prefix, process.execPath, ...nodeArgs], env, release };
  }
  return { command: process.execPath, args: nodeArgs, env, release };
}
