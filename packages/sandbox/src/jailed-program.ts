import { existsSync, mkdtempSync, realpathSync, rmSync, statSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type EgressDecision, startEgressProxy } from './egress-proxy.ts';
import { SandboxStartError } from './errors.ts';
import { createJail, type JailLimits, nodeRuntimeDir, osSandboxStatus } from './os/bubblewrap.ts';

/*
 * Any program (a stdio MCP server: Node, Python, a binary) run inside the OS sandbox: read-only
 * system runtime and Node, the program's own installation, the paths its command line names and
 * what it declared; writes only where it declared; its network only through an egress proxy
 * to its declared hosts (a forwarder inside the jail, ./os/jail-init.ts, turns the proxy's
 * Unix socket into 127.0.0.1:3128 for programs honouring HTTPS_PROXY). The caller spawns the
 * returned command line with the returned environment, and closes it when the program ends.
 */

const JAIL_INIT = join(dirname(fileURLToPath(import.meta.url)), 'os', 'jail-init.ts');
const PROXY_PORT = 3128;

export interface JailedProgramOptions {
  command: string;
  args: readonly string[];
  /** The program's environment (built by the caller from nothing but what it may have). */
  env: Record<string, string>;
  /** More host paths it may read (its command line's absolute paths are added). */
  read?: readonly string[];
  /** Host paths it may write. */
  write?: readonly string[];
  /** Hosts it may reach (`host`, `host:port`, `*.example.com`), through the egress proxy. */
  network?: readonly string[];
  /** Every connection attempt through the proxy, allowed or refused (for the audit log). */
  onDecision?: (decision: EgressDecision) => void;
  /** Opens the proxy's outbound connections (public addresses only on multi-user servers). */
  connect?: (host: string, port: number) => Socket;
  limits?: Partial<JailLimits>;
}

export interface JailedProgram {
  command: string;
  args: string[];
  env: Record<string, string>;
  /** Stops the proxy and frees the jail's host resources; call when the program has ended. */
  close(): Promise<void>;
}

/** The program's absolute path as the host's PATH finds it, links resolved. */
function resolveCommand(command: string): string {
  const candidates = isAbsolute(command)
    ? [command]
    : (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, command));
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new SandboxStartError(`the program ${command} is not installed on this host`);
  return realpathSync(found);
}

/** Where the program lives, when it is not already in the jail (/usr, the Node runtime). */
function installation(program: string): string[] {
  if (program.startsWith('/usr/') || program.startsWith(nodeRuntimeDir())) return [];
  // Its package or prefix: the directory above its bin/ (or its own directory).
  const dir = dirname(program);
  return [dir.endsWith('/bin') ? dirname(dir) : dir];
}

/**
 * The absolute paths a command line names that exist: the program reads what it is given. A
 * script inside a package brings the package and the node_modules above it (where Node looks
 * for its imports), read-only.
 */
function namedPaths(args: readonly string[]): string[] {
  const paths: string[] = [];
  for (const arg of args) {
    if (!isAbsolute(arg) || arg === '/' || !existsSync(arg)) continue;
    const path = realpathSync(arg);
    paths.push(path);
    if (!statSync(path).isFile()) continue;
    let found = false;
    for (let dir = dirname(path); dir !== dirname(dir); dir = dirname(dir)) {
      if (!found && existsSync(join(dir, 'package.json'))) {
        paths.push(dir);
        found = true;
      }
      if (existsSync(join(dir, 'node_modules'))) paths.push(join(dir, 'node_modules'));
    }
  }
  return [...new Set(paths)];
}

export async function prepareJailedProgram(options: JailedProgramOptions): Promise<JailedProgram> {
  const status = osSandboxStatus();
  if (!status.available)
    throw new SandboxStartError(`this host cannot provide the OS sandbox: ${status.reason}`);
  const program = resolveCommand(options.command);
  const hosts = options.network ?? [];
  const socketDir = hosts.length > 0 ? mkdtempSync(join(tmpdir(), 'parley-jail-')) : undefined;
  const proxy = socketDir
    ? await startEgressProxy({
        allow: hosts,
        socketPath: join(socketDir, 'egress.sock'),
        onDecision: (decision) => options.onDecision?.(decision),
        ...(options.connect ? { connect: options.connect } : {}),
      })
    : undefined;
  const proxyUrl = `http://127.0.0.1:${PROXY_PORT}`;
  const [command, args] = socketDir
    ? [
        process.execPath,
        [JAIL_INIT, join(socketDir, 'egress.sock'), String(PROXY_PORT), program, ...options.args],
      ]
    : [program, [...options.args]];
  const jail = createJail({
    command,
    args,
    cwd: '/tmp',
    read: [
      ...installation(program),
      ...(socketDir ? [dirname(JAIL_INIT)] : []),
      ...namedPaths(options.args),
      ...(options.read ?? []),
    ],
    write: options.write ?? [],
    own: socketDir ? [socketDir] : [],
    ...(options.limits ? { limits: options.limits } : {}),
  });
  return {
    command: jail.command,
    args: jail.args,
    env: {
      ...options.env,
      // The host's PATH and HOME name directories the jail does not have.
      PATH: `${join(nodeRuntimeDir(), 'bin')}:/usr/local/bin:/usr/bin:/bin`,
      HOME: '/tmp',
      ...(socketDir
        ? {
            HTTP_PROXY: proxyUrl,
            HTTPS_PROXY: proxyUrl,
            http_proxy: proxyUrl,
            https_proxy: proxyUrl,
            NODE_USE_ENV_PROXY: '1',
          }
        : {}),
    },
    async close() {
      await proxy?.close();
      jail.release();
      if (socketDir) rmSync(socketDir, { recursive: true, force: true });
    },
  };
}
