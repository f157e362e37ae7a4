import type { Socket } from 'node:net';
import type { PluginAuditEvent, PluginLogEntry, PluginPermissions } from '@parley/core';
import type { Isolation, NetworkIsolation } from './launch.ts';
import type { JailLimits } from './os/bubblewrap.ts';

/* The shapes of a sandboxed plugin: what starting one takes, what it reports, what it offers. */

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
