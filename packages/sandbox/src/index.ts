export { type EgressDecision, type EgressProxy, startEgressProxy } from './egress-proxy.ts';
export { PluginCrashedError, SandboxStartError } from './errors.ts';
export { type NetworkIsolation, namespaceCommand } from './launch.ts';
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
