import { createRedactor, ToolTimeoutError } from '@parley/core';
import { PluginCrashedError } from './errors.ts';
import { type Instance, invokeTool, prepareLaunch, startInstance } from './plugin-process.ts';
import { preparePlugin } from './sandbox-preflight.ts';
import type {
  SandboxAuditEvent,
  SandboxCallOptions,
  SandboxedPlugin,
  SandboxManifest,
  SandboxToolInfo,
  StartSandboxedPluginOptions,
} from './sandboxed-plugin-types.ts';

export type {
  SandboxAuditEvent,
  SandboxCallOptions,
  SandboxedPlugin,
  SandboxManifest,
  SandboxPermissions,
  SandboxToolInfo,
  StartSandboxedPluginOptions,
} from './sandboxed-plugin-types.ts';

/**
 * Starts a plugin in its own Node process under the permission model, with only its declared
 * secrets in the environment and its outbound HTTP through an allow-listing proxy, and talks
 * to it over MCP on stdio. A crash or a hang fails the call with a typed error and restarts the
 * process; later calls go to the new one.
 */
export async function startSandboxedPlugin(
  options: StartSandboxedPluginOptions,
): Promise<SandboxedPlugin> {
  const prepared = preparePlugin(options);
  const { dir, secrets, isolation, network } = prepared;
  // As in process: a secret the plugin holds never reaches the model, the stream or a log
  // through what it returns, throws or prints.
  const { redact, redactString } = createRedactor(Object.values(secrets));
  const startMs = options.timeouts?.startMs ?? 15_000;
  const callMs = options.timeouts?.callMs ?? 30_000;

  let pluginName = '(starting)';
  /** Calls by the id sent along (`_meta`), until the child's report of their end is read. */
  const inFlight = new Map<string, SandboxCallOptions>();
  /** Waiters for a call's `call_end` report, after which all its reports have been handled. */
  const endWaiters = new Map<string, () => void>();
  let callIds = 0;
  const audit = (
    event: Omit<SandboxAuditEvent, 'plugin'>,
    running: readonly string[] = [...inFlight.keys()],
  ) => options.onAudit?.({ ...event, plugin: pluginName, ...attribution(inFlight, running) });

  const { launch, release } = await prepareLaunch(options, prepared, (decision) =>
    audit({
      action: decision.allowed ? 'plugin.network_request' : 'plugin.permission_denied',
      kind: 'network',
      resource: `${decision.host}:${decision.port}`,
    }),
  );

  let manifest: SandboxManifest | undefined;
  let tools: SandboxToolInfo[] = [];
  let stopping = false;
  let restarts = 0;
  let live: Instance | undefined;

  async function spawnInstance(): Promise<Instance> {
    const started = await startInstance({
      launch,
      dir,
      startMs,
      redactString,
      reports: {
        callEnded: (call) => endWaiters.get(call)?.(),
        audit,
        log: ({ level, message, data, hasData }) =>
          options.onLog?.({
            level,
            plugin: pluginName,
            message: redactString(message).slice(0, 2_000),
            ...(hasData ? { data: redact(data) } : {}),
          }),
      },
    });
    manifest = started.manifest;
    pluginName = started.manifest.name;
    tools = started.tools;
    live = started.instance;
    return started.instance;
  }

  let current = spawnInstance();
  try {
    await current;
  } catch (error) {
    await release();
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
        const result = await invokeTool(instance, {
          name,
          args,
          key,
          limit,
          signal: AbortSignal.any(signals),
          reported,
        });
        return resultValue(result, name, { redact, redactString });
      } catch (error) {
        if (timeout.signal.aborted) {
          // A hung plugin: kill it, start a fresh one, fail this call.
          replace(instance);
          throw new ToolTimeoutError(name, limit);
        }
        throw await crashedOr(error, instance, pluginName, name);
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
      await release();
    },
  };
}

/** A tool result's text content: its JSON value, or the text itself; an error result throws it. */
function resultValue(
  result: { content: unknown; isError?: unknown },
  name: string,
  redactor: { redact: (value: unknown) => unknown; redactString: (text: string) => string },
): unknown {
  const text = (result.content as { type: string; text?: string }[])
    .filter((part) => part.type === 'text')
    .map((part) => part.text ?? '')
    .join('');
  if (result.isError) throw new Error(redactor.redactString(text) || `tool ${name} failed`);
  try {
    return redactor.redact(JSON.parse(text));
  } catch {
    return redactor.redactString(text);
  }
}

/** The call an event belongs to: the only one running (as the child or the proxy saw it). */
function attribution(inFlight: Map<string, SandboxCallOptions>, running: readonly string[]) {
  if (running.length !== 1) return {};
  const only = inFlight.get(running[0]!);
  return {
    ...(only?.agentId ? { agentId: only.agentId } : {}),
    ...(only?.toolCallId ? { toolCallId: only.toolCallId } : {}),
  };
}

/** A call's error as the caller sees it: PluginCrashedError when the process died under it. */
async function crashedOr(
  error: unknown,
  instance: Instance,
  pluginName: string,
  tool: string,
): Promise<unknown> {
  if (!instance.hasExited() && instance.child.exitCode === null) return error;
  const { code, signal } = await instance.exited;
  return new PluginCrashedError(pluginName, tool, signal ?? `code ${code}`, instance.stderr());
}
