/*
 * Runs inside the sandboxed child process (see ../launch.ts for how it is started). Before the
 * plugin's code loads it: opens the audit channel (fd 3), starts the in-namespace forwarder to
 * the parent's egress proxy when there is one, reports permission-model denials, wraps
 * process.env so reads of undeclared variables are audited, and refuses the Node modules that
 * open sockets or processes. Then it imports the plugin and serves its tools over MCP on stdio.
 *
 * Everything here is defense in depth around the boundaries that do not depend on this file:
 * Node's permission model (files, processes, workers), the environment the parent built (only
 * declared secrets) and, on Linux, the network namespace. docs/plugins/isolation.md lists what
 * this layer can and cannot stop.
 */
import diagnostics from 'node:diagnostics_channel';
import { writeSync } from 'node:fs';
import module from 'node:module';
import { connect, createServer } from 'node:net';
import { pathToFileURL } from 'node:url';
import { McpServer } from '@modelcontextprotocol/server';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';

interface RunnerConfig {
  /** The plugin's directory (real path): env reads are audited when its code makes them. */
  dir: string;
  entry: string;
  /** What `@parley/core` means to the plugin: definePlugin and defineTool only. */
  pluginSdk: string;
  secrets: string[];
  /** In a network namespace: listen on 127.0.0.1:port there, forward to the parent's socket. */
  forward?: { socketPath: string; port: number };
}

const config = JSON.parse(process.argv[2] ?? '{}') as RunnerConfig;
const AUDIT_FD = 3;

type ChildReport =
  | { type: 'denied'; kind: 'env' | 'fs' | 'module' | 'secret'; resource: string }
  | { type: 'secret_read'; resource: string }
  | { type: 'manifest'; plugin: Record<string, unknown>; tools: string[] }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string; data?: unknown }
  /** Written before the call's answer: every report of the call is ahead of it on fd 3. */
  | { type: 'call_end'; call: string };

/** The parent's ids of the tool calls running now; each report carries them (attribution). */
const activeCalls = new Set<string>();

function report(event: ChildReport) {
  try {
    writeSync(AUDIT_FD, `${JSON.stringify({ ...event, calls: [...activeCalls] })}\n`);
  } catch {
    // The parent went away; nothing to report to.
  }
}

if (config.forward) {
  const { socketPath, port } = config.forward;
  const forwarder = createServer((client) => {
    const upstream = connect(socketPath);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => forwarder.listen(port, '127.0.0.1', resolve));
  forwarder.unref();
}

for (const channel of ['fs', 'child', 'worker', 'addon', 'wasi', 'inspector']) {
  diagnostics.subscribe(`node:permission-model:${channel}`, (message) => {
    const { resource, permission } = message as { resource?: string; permission?: string };
    report({ type: 'denied', kind: 'fs', resource: `${permission ?? channel}:${resource ?? ''}` });
  });
}

/** Modules that open sockets, processes or threads, or could undo these hooks. */
const BLOCKED = new Set([
  'net',
  'tls',
  'dgram',
  'dns',
  'dns/promises',
  'http',
  'https',
  'http2',
  'child_process',
  'worker_threads',
  'cluster',
  'inspector',
  'inspector/promises',
  'trace_events',
  // Node's internals reachable by name: each hands out socket classes (tty.WriteStream is a
  // net.Socket) without importing node:net.
  '_tls_wrap',
  '_tls_common',
  '_http_agent',
  '_http_client',
  '_http_common',
  '_http_incoming',
  '_http_outgoing',
  '_http_server',
  '_stream_wrap',
  'tty',
  'repl',
]);
const blockedName = (specifier: string) => {
  const name = specifier.startsWith('node:') ? specifier.slice(5) : specifier;
  return BLOCKED.has(name) ? name : undefined;
};
const refuse = (name: string): never => {
  const resource = name.startsWith('process.') ? name : `node:${name}`;
  report({ type: 'denied', kind: 'module', resource });
  const error = new Error(
    `${resource} is not available to sandboxed plugins: use fetch (through the declared hosts) instead`,
  ) as Error & { code: string };
  error.code = 'ERR_ACCESS_DENIED';
  throw error;
};
module.registerHooks({
  resolve(specifier, context, next) {
    if (specifier === '@parley/core')
      return { url: pathToFileURL(config.pluginSdk).href, shortCircuit: true };
    const name = blockedName(specifier);
    if (name) refuse(name);
    return next(specifier, context);
  },
});
// No further hooks (they could resolve a blocked module before ours) and no back door.
const mutable = module as unknown as Record<string, unknown>;
mutable.registerHooks = () => refuse('module.registerHooks');
mutable.register = () => refuse('module.register');
module.syncBuiltinESMExports();
const getBuiltin = process.getBuiltinModule.bind(process);
process.getBuiltinModule = ((id: string) => {
  const name = blockedName(id);
  return name ? refuse(name) : getBuiltin(id);
}) as typeof process.getBuiltinModule;

// The native bindings (raw TCP, pipes, process spawning) and the debugger switch: a plugin
// has no use for them. The OS sandbox stops what they could reach; this stops the attempt
// where it starts, and audits it.
const hostile = process as unknown as Record<string, unknown>;
for (const name of ['binding', '_linkedBinding', '_debugProcess', '_debugEnd', 'dlopen'])
  hostile[name] = () => refuse(`process.${name}`);
const ownKill = process.kill.bind(process);
process.kill = ((pid: number, signal?: string | number) =>
  pid === process.pid ? ownKill(pid, signal) : refuse('process.kill')) as typeof process.kill;

const declared = new Set(config.secrets);
const reportedEnv = new Set<string>();
const pluginFrames = [config.dir, pathToFileURL(config.dir).href];
/** Whether the plugin's own code (or a dependency inside its directory) is asking. */
const fromPlugin = () => {
  const stack = new Error().stack ?? '';
  return pluginFrames.some((frame) => stack.includes(frame));
};
process.env = new Proxy(process.env, {
  get(target, key, receiver) {
    if (typeof key === 'string' && !(key in target) && !reportedEnv.has(key) && fromPlugin()) {
      reportedEnv.add(key);
      report({ type: 'denied', kind: 'env', resource: key });
    }
    return Reflect.get(target, key, receiver);
  },
});

interface SandboxTool {
  name: string;
  description: string;
  input: unknown;
  run(args: unknown, context: unknown): unknown;
}
interface SandboxPlugin {
  name: string;
  version: string;
  contract: number;
  core: string;
  description?: string;
  permissions?: { network?: string[]; secrets?: string[] };
  tools?: SandboxTool[];
}

const loaded = (await import(pathToFileURL(config.entry).href)) as {
  default?: SandboxPlugin;
  plugin?: SandboxPlugin;
};
const plugin = loaded.default ?? loaded.plugin;
if (!plugin || typeof plugin !== 'object' || typeof plugin.name !== 'string') {
  throw new Error(`${config.entry} must export its plugin as the default export (definePlugin(…))`);
}

report({
  type: 'manifest',
  plugin: {
    name: plugin.name,
    version: plugin.version,
    contract: plugin.contract,
    core: plugin.core,
    ...(plugin.description ? { description: plugin.description } : {}),
    permissions: plugin.permissions ?? {},
  },
  tools: (plugin.tools ?? []).map((tool) => tool.name),
});

const server = new McpServer({ name: plugin.name, version: plugin.version });
for (const tool of plugin.tools ?? []) {
  server.registerTool(
    tool.name,
    { description: tool.description, inputSchema: tool.input as never },
    (async (
      args: unknown,
      extra: { mcpReq?: { signal?: AbortSignal; _meta?: Record<string, unknown> } },
    ) => {
      const signal = extra.mcpReq?.signal ?? new AbortController().signal;
      const call = String(extra.mcpReq?._meta?.['parley/call'] ?? '');
      activeCalls.add(call);
      const log =
        (level: 'info' | 'warn' | 'error') => (message: string, data?: Record<string, unknown>) =>
          report({ type: 'log', level, message: String(message), ...(data ? { data } : {}) });
      const context = {
        toolCallId: '',
        agentId: '',
        conversationId: '',
        signal,
        secrets: {
          async get(name: string) {
            if (!declared.has(name)) {
              report({ type: 'denied', kind: 'secret', resource: name });
              throw new Error(
                `plugin ${plugin.name} did not declare the secret ${name} (declared: ${[...declared].join(', ') || 'none'})`,
              );
            }
            const value = Reflect.get(process.env, name) as string | undefined;
            if (value === undefined) throw new Error(`secret ${name} is not set in this workspace`);
            report({ type: 'secret_read', resource: name });
            return value;
          },
        },
        fetch: (url: string | URL, init?: RequestInit) => fetch(url, { signal, ...init }),
        log: { info: log('info'), warn: log('warn'), error: log('error') },
        memory: {
          remember: async () => {
            throw new Error('memory is not available to sandboxed (community) plugins');
          },
          recall: async () => {
            throw new Error('memory is not available to sandboxed (community) plugins');
          },
        },
      };
      try {
        const output = await tool.run(args, context);
        return { content: [{ type: 'text', text: JSON.stringify(output ?? null) }] };
      } catch (error) {
        return {
          isError: true,
          content: [{ type: 'text', text: error instanceof Error ? error.message : String(error) }],
        };
      } finally {
        activeCalls.delete(call);
        report({ type: 'call_end', call });
      }
    }) as never,
  );
}
await server.connect(new StdioServerTransport());
