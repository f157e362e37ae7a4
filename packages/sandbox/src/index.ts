export { type EgressDecision, type EgressProxy, startEgressProxy } from './egress-proxy.ts';
export { PluginCrashedError, SandboxStartError } from './errors.ts';
export {
  type JailedProgram,
  type JailedProgramOptions,
  prepareJailedProgram,
} from './jailed-program.ts';
export { type Isolation, type NetworkIsolation, namespaceCommand } from './launch.ts';
export {
  DEFAULT_LIMITS,
  type JailLimits,
  type OsSandboxStatus,
  osSandboxStatus,
} from './os/bubblewrap.ts';
export { REFUSED_SYSCALLS } from './os/seccomp.ts';
export { type EscapingLink, escapingLinks } from './package-links.ts';
export { sandboxedPluginDefinition } from './plugin-definition.ts';
export {
  type SandboxAuditEvent,
  type SandboxCallOptions,
  type SandboxedPlugin,
  type SandboxManifest,
  type SandboxPermissions,
  type SandboxToolInfo,
  type StartSandboxedPluginOptions,
  startSandboxedPlugin,
} from './sandboxed-plugin.ts';
