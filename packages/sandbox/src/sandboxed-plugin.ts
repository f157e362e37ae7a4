import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import type { Client } from '@modelcontextprotocol/client';
import {
  createRedactor,
  type PluginAuditEvent,
  type PluginLogEntry,
  type PluginPermissions,
  ToolTimeoutError,
} from '@parley/core';
import { ChildProcessTransport } from './child-transport.ts';
import { startEgressProxy } from './egress-proxy.ts';
import { PluginCrashedError, SandboxStartError } from './errors.ts';
import { buildLaunch, type Isolation, type NetworkIsolation, namespaceCommand } from './launch.ts';
import { type JailLimits, osSandboxStatus } from './os/bubblewrap.ts';
import { escapingLinks } from './package-links.ts';

/** What the sandbox enforces: the permissions the registry (and the person adding it) agreed to. */
export interface SandboxPermissions extends PluginPermissions {
  /** The plugin may write inside its own directory (default: it writes nowhere). */
  writeDir?: boolean;
}

/** An audit event with the kind of access: `network` comes from the proxy, the rest from the child. */
export interface SandboxAuditEvent extends PluginAuditEvent {
  kind: 'env' | 'fs' | 'module' | 'network' | 'secret';
}

/** What the plugin says about itself (its `definePlugin` fields), as read inside the sandbox. */
export interface SandboxManifest {
  name: string;
  version: string;
  contract: number;
  core: string;
  description?: string;
  permissions: PluginPermissions;
}

export interface SandboxToolInfo {
  name: string;
  description: string;
  /** JSON Schema of the arguments, as the plugin's zod schema produced it. */
  inputSchema: Record<string, unknown>;
}

export interface StartSandboxedPluginOptions {
  /** The plugin's directory; the process may read only here (and what the runner needs). */
  dir: string;
  /** The entry module, relative to `dir` or absolute inside it; it default-exports the plugin. */
  entry: string;
  permissions: SandboxPermissions;
  /** Values of the declared secrets; names not in `permissions.secrets` never reach the child. */
  secrets?: Record<string, string>;
  onAudit?: (event: SandboxAuditEvent) => void;
  onLog?: (entry: PluginLogEntry) => void;
  timeouts?: {
    /** Starting the process and listing its tools (default 15 s). */
    startMs?: number;
    /** One tool call; past it the process is killed and restarted (default 30 s). */
    callMs?: number;
  };
  /**
   * `os` (default): the OS sandbox, refused where the host cannot provide it; `weak`: the Node
   * permission model alone (PARLEY_SANDBOX=weak); `auto`: `os` where available, else `weak`
   * (the plugin kit on a developer's machine).
   */
  isolation?: Isolation | 'auto';
  /** In the weak mode: `auto` (default) adds a network namespace where `unshare` can make one. */
  network?: 'auto' | NetworkIsolation;
  /** The OS sandbox's limits (memory defaults to the heap limit plus 256 MB). */
  limits?: Partial<JailLimits>;
  /** The process's JavaScript heap limit in MB (default 256); past it the process dies. */
  heapMb?: number;
  /** Opens outbound connections for the proxy (default net.connect). */
  connect?: (host: string, port: number) => Socket;
}

export interface SandboxCallOptions {
  signal?: AbortSignal;
  /** This call's timeout (default `timeouts.callMs`); past it the process is restarted. */
  timeoutMs?: number;
  /** Attributed to audit events raised while this call is the only one running. */
  toolCallId?: string;
  agentId?: string;
}

export interface SandboxedPlugin {
  manifest: SandboxManifest;
  tools: SandboxToolInfo[];
  /** Which sandbox holds the process. */
  isolation: Isolation;
  /** How outbound traffic is contained for this process. */
  network: NetworkIsolation;
  /** Calls a tool; throws ToolTimeoutError (tool.timeout) or PluginCrashedError (plugin.crashed). */
  call(name: string, args: unknown, options?: SandboxCallOptions): Promise<unknown>;
  /** The current process id (changes when it is restarted). */
  pid(): number | undefined;
  /** How many times the process was restarted after a crash or a hang. */
  readonly restarts: number;
  stop(): Promise<void>;
}

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

/** Longest a call's answer waits for the reports the child sent before it. */
const REPORT_GRACE_MS = 2_000;

/** Names a secret may not have: they would change how the child's Node starts or routes. */
const RESERVED_ENV = /^(NODE_|UV_|HTTPS?_PROXY$|NO_PROXY$|LD_|DYLD_)/i;

interface Instance {
  child: ChildProcess;
  client: Client;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited: () => boolean;
  stderr: () => string;
  /** Set once a replacement was started, so one failure restarts once. */
  replaced: boolean;
}

/**
 * Starts a plugin in its own Node process under the permission model, with only its declared
 * secrets in the environment and its outbound HTTP through an allow-listing proxy, and talks
 * to it over MCP on stdio. A crash or a hang fails the call with a typed error and restarts the
 * process; later calls go to the new one.
 */
export async function startSandboxedPlugin(
  options: StartSandboxedPluginOptions,
): Promise<SandboxedPlugin> {
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
  // As in process: a secret the plugin holds never reaches the model, the stream or a log
  // through what it returns, throws or prints.
  const { redact, redactString } = createRedactor(Object.values(secrets));
  const startMs = options.timeouts?.startMs ?? 15_000;
  const callMs = options.timeouts?.callMs ?? 30_000;
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

  let pluginName = '(starting)';
  /** Calls by the id sent along (`_meta`), until the child's report of their end is read. */
  const inFlight = new Map<string, SandboxCallOptions>();
  /** Waiters for a call's `call_end` report, after which all its reports have been handled. */
  const endWaiters = new Map<string, () => void>();
  let callIds = 0;
  /** The call an event belongs to: the only one running (as the child or the proxy saw it). */
  const attribution = (running: readonly string[]) => {
    if (running.length !== 1) return {};
    const only = inFlight.get(running[0]!);
    return {
      ...(only?.agentId ? { agentId: only.agentId } : {}),
      ...(only?.toolCallId ? { toolCallId: only.toolCallId } : {}),
    };
  };
  const audit = (
    event: Omit<SandboxAuditEvent, 'plugin'>,
    running: readonly string[] = [...inFlight.keys()],
  ) => options.onAudit?.({ ...event, plugin: pluginName, ...attribution(running) });

  const socketDir =
    network === 'namespace' ? mkdtempSync(join(tmpdir(), 'parley-sbx-')) : undefined;
  const proxy = await startEgressProxy({
    allow: options.permissions.network ?? [],
    ...(socketDir ? { socketPath: join(socketDir, 'egress.sock') } : {}),
    ...(options.connect ? { connect: options.connect } : {}),
    onDecision: ({ host, port, allowed }) =>
      audit({
        action: allowed ? 'plugin.network_request' : 'plugin.permission_denied',
        kind: 'network',
        resource: `${host}:${port}`,
      }),
  });
  const launch = buildLaunch({
    dir,
    entry,
    secrets,
    writeDir: options.permissions.writeDir === true,
    heapMb: options.heapMb ?? 256,
    proxyUrl: proxy.url,
    ...(socketDir ? { proxySocket: join(socketDir, 'egress.sock') } : {}),
    network,
    isolation,
    ...(options.limits ? { limits: options.limits } : {}),
  });

  let manifest: SandboxManifest | undefined;
  let tools: SandboxToolInfo[] = [];
  let stopping = false;
  let restarts = 0;
  let live: Instance | undefined;

  async function spawnInstance(): Promise<Instance> {
    const child = spawn(launch.command, launch.args, {
      cwd: dir,
      env: launch.env,
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    let stderrTail = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderrTail = redactString(stderrTail + chunk.toString('utf8')).slice(-4_000);
    });
    let exitedFlag = false;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
      child.once('exit', (code, signal) => {
        exitedFlag = true;
        done({ code, signal });
      }),
    );
    let announce: (m: { plugin: SandboxManifest; tools: string[] }) => void = () => {};
    const announced = new Promise<{ plugin: SandboxManifest; tools: string[] }>(
      (done) => (announce = done),
    );
    const reports = child.stdio[3];
    if (reports && 'on' in reports) {
      createInterface({ input: reports as NodeJS.ReadableStream }).on('line', (line) => {
        let report: Record<string, unknown>;
        try {
          report = JSON.parse(line) as Record<string, unknown>;
        } catch {
          return;
        }
        const resource = String(report.resource ?? '').slice(0, 500);
        const running = Array.isArray(report.calls) ? report.calls.map(String) : [];
        if (report.type === 'manifest') announce(report as never);
        else if (report.type === 'call_end') endWaiters.get(String(report.call))?.();
        else if (report.type === 'denied')
          audit(
            {
              action: 'plugin.permission_denied',
              kind: report.kind as SandboxAuditEvent['kind'],
              resource,
            },
            running,
          );
        else if (report.type === 'secret_read')
          audit({ action: 'plugin.secret_read', kind: 'secret', resource }, running);
        else if (report.type === 'log')
          options.onLog?.({
            level: (['info', 'warn', 'error'] as const).find((l) => l === report.level) ?? 'info',
            plugin: pluginName,
            message: redactString(String(report.message ?? '')).slice(0, 2_000),
            ...(report.data === undefined ? {} : { data: redact(report.data) }),
          });
      });
    }
    // The MCP SDK loads with the first sandboxed plugin, not with every server.
    const { Client } = await import('@modelcontextprotocol/client');
    const client = new Client({ name: 'parley-sandbox', version: '1.0.0' });
    const failure = (what: string) =>
      new SandboxStartError(
        `the plugin process in ${dir} ${what}${stderrTail ? `: ${stderrTail.trim().split('\n').slice(-5).join(' | ')}` : ''}`,
      );
    let timer: NodeJS.Timeout | undefined;
    try {
      const ready = (async () => {
        await client.connect(new ChildProcessTransport(child));
        const [announcement, listed] = await Promise.all([announced, client.listTools()]);
        return { announcement, listed };
      })();
      const { announcement, listed } = await Promise.race([
        ready,
        exited.then(({ code, signal }) => {
          throw failure(`exited while starting (${signal ?? `code ${code}`})`);
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(failure(`did not start within ${startMs} ms`)), startMs);
        }),
      ]);
      manifest = announcement.plugin;
      pluginName = manifest.name;
      tools = listed.tools.map((tool) => ({
        name: tool.name,
        description: tool.description ?? '',
        inputSchema: tool.inputSchema as Record<string, unknown>,
      }));
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    } finally {
      clearTimeout(timer);
    }
    const instance: Instance = {
      child,
      client,
      exited,
      hasExited: () => exitedFlag,
      stderr: () => stderrTail,
      replaced: false,
    };
    live = instance;
    return instance;
  }

  let current = spawnInstance();
  try {
    await current;
  } catch (error) {
    await proxy.close();
    launch.release();
    if (socketDir) rmSync(socketDir, { recursive: true, force: true });
    throw error;
  }

  const replace = (dead: Instance) => {
    if (stopping || dead.replaced) return;
    dead.replaced = true;
    dead.child.kill('SIGKILL');
    restarts++;
    current = spawnInstance();
    watch(current);
  };
  // A process that exits (during a call or between calls) is replaced by a fresh one.
  const watch = (instance: Promise<Instance>) =>
    instance.then(
      (running) => void running.exited.then(() => replace(running)),
      () => {},
    );
  watch(current);

  return {
    get manifest() {
      return manifest!;
    },
    get tools() {
      return tools;
    },
    isolation,
    network,
    get restarts() {
      return restarts;
    },
    pid: () => (live && !live.hasExited() ? live.child.pid : undefined),

    async call(name, args, callOptions = {}) {
      const instance = await current;
      const key = String(++callIds);
      inFlight.set(key, callOptions);
      const reported = new Promise<void>((resolve) => endWaiters.set(key, resolve));
      const limit = callOptions.timeoutMs ?? callMs;
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(), limit);
      const signals = [timeout.signal, ...(callOptions.signal ? [callOptions.signal] : [])];
      try {
        const result = await instance.client.callTool(
          {
            name,
            arguments: (args ?? {}) as Record<string, unknown>,
            _meta: { 'parley/call': key },
          },
          { signal: AbortSignal.any(signals), timeout: limit + 1_000 },
        );
        // The answer came on stdout, the call's reports on fd 3: handle those first (a plugin
        // that closed fd 3 gets a short grace, not a hang).
        const grace = new AbortController();
        await Promise.race([
          reported,
          instance.exited,
          delay(REPORT_GRACE_MS, undefined, { signal: grace.signal }).catch(() => {}),
        ]);
        grace.abort();
        const text = (result.content as { type: string; text?: string }[])
          .filter((part) => part.type === 'text')
          .map((part) => part.text ?? '')
          .join('');
        if (result.isError) throw new Error(redactString(text) || `tool ${name} failed`);
        try {
          return redact(JSON.parse(text));
        } catch {
          return redactString(text);
        }
      } catch (error) {
        if (timeout.signal.aborted) {
          // A hung plugin: kill it, start a fresh one, fail this call.
          replace(instance);
          throw new ToolTimeoutError(name, limit);
        }
        if (instance.hasExited() || instance.child.exitCode !== null) {
          const { code, signal } = await instance.exited;
          throw new PluginCrashedError(
            pluginName,
            name,
            signal ?? `code ${code}`,
            instance.stderr(),
          );
        }
        throw error;
      } finally {
        clearTimeout(timer);
        inFlight.delete(key);
        endWaiters.delete(key);
      }
    },

    async stop() {
      stopping = true;
      const instance = await current.catch(() => undefined);
      if (instance && !instance.hasExited()) {
        await instance.client.close().catch(() => {});
        instance.child.kill('SIGKILL');
        await instance.exited;
      }
      await proxy.close();
      launch.release();
      if (socketDir) rmSync(socketDir, { recursive: true, force: true });
    },
  };
}
