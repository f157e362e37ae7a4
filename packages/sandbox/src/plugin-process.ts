import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Client } from '@modelcontextprotocol/client';
import { type ReportHandlers, readChildReports } from './child-reports.ts';
import { ChildProcessTransport } from './child-transport.ts';
import { startEgressProxy } from './egress-proxy.ts';
import { SandboxStartError } from './errors.ts';
import { buildLaunch, type Launch } from './launch.ts';
import type { PreparedPlugin } from './sandbox-preflight.ts';
import type {
  SandboxManifest,
  SandboxToolInfo,
  StartSandboxedPluginOptions,
} from './sandboxed-plugin-types.ts';

/*
 * One plugin process: its launch behind the egress proxy; spawned from its launch, connected over MCP on stdio, started once it
 * announced its manifest (fd 3) and listed its tools, within the start limit. A process that
 * exits or hangs while starting is killed and the start fails with what it printed last.
 */

export interface Instance {
  child: ChildProcess;
  client: Client;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited: () => boolean;
  stderr: () => string;
  /** Set once a replacement was started, so one failure restarts once. */
  replaced: boolean;
}

export async function startInstance(params: {
  launch: Launch;
  dir: string;
  startMs: number;
  redactString: (text: string) => string;
  reports: Omit<ReportHandlers, 'announce'>;
}): Promise<{ instance: Instance; manifest: SandboxManifest; tools: SandboxToolInfo[] }> {
  const { launch, dir, startMs, redactString } = params;
  let manifest: SandboxManifest;
  let tools: SandboxToolInfo[];
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
  readChildReports(child, { ...params.reports, announce });
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
  return { instance, manifest, tools };
}

/** Longest a call's answer waits for the reports the child sent before it. */
const REPORT_GRACE_MS = 2_000;

/**
 * The egress proxy (on a Unix socket when the process has its own network namespace) and the
 * launch of the process behind it; `release` closes both and removes the socket's directory.
 */
export async function prepareLaunch(
  options: StartSandboxedPluginOptions,
  prepared: PreparedPlugin,
  onDecision: (decision: { host: string; port: number; allowed: boolean }) => void,
): Promise<{ launch: Launch; release: () => Promise<void> }> {
  const { dir, entry, secrets, network, isolation } = prepared;
  const socketDir =
    network === 'namespace' ? mkdtempSync(join(tmpdir(), 'parley-sbx-')) : undefined;
  const proxy = await startEgressProxy({
    allow: options.permissions.network ?? [],
    ...(socketDir ? { socketPath: join(socketDir, 'egress.sock') } : {}),
    ...(options.connect ? { connect: options.connect } : {}),
    onDecision,
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
  return {
    launch,
    async release() {
      await proxy.close();
      launch.release();
      if (socketDir) rmSync(socketDir, { recursive: true, force: true });
    },
  };
}

/** One tool call over MCP, its id sent along; resolves once the call's reports were read too. */
export async function invokeTool(
  instance: Instance,
  call: {
    name: string;
    args: unknown;
    key: string;
    limit: number;
    signal: AbortSignal;
    reported: Promise<void>;
  },
) {
  const result = await instance.client.callTool(
    {
      name: call.name,
      arguments: (call.args ?? {}) as Record<string, unknown>,
      _meta: { 'parley/call': call.key },
    },
    { signal: call.signal, timeout: call.limit + 1_000 },
  );
  // The answer came on stdout, the call's reports on fd 3: handle those first (a plugin
  // that closed fd 3 gets a short grace, not a hang).
  const grace = new AbortController();
  await Promise.race([
    call.reported,
    instance.exited,
    delay(REPORT_GRACE_MS, undefined, { signal: grace.signal }).catch(() => {}),
  ]);
  grace.abort();
  return result;
}
