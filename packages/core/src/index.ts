export {
  type AgentLimits,
  AgentLimitsSchema,
  type AgentLink,
  AgentLinkSchema,
  agentToolName,
} from './agent/agent-links.ts';
export {
  CHANNEL_MODES,
  CHANNEL_PLATFORMS,
  ChannelListSchema,
  type ChannelMode,
  type ChannelPlatform,
  type ChannelRef,
  ChannelRefSchema,
} from './agent/channels.ts';
export { refusedEnvName } from './agent/child-env-rules.ts';
export {
  type AgentDefinition,
  type AgentDefinitionInput,
  AgentDefinitionSchema,
  defineAgent,
  type EmbeddingModelRef,
  EmbeddingModelRefSchema,
  type McpServerRef,
  McpServerRefSchema,
  type MemorySettings,
  type ModelRef,
  ModelRefSchema,
  type PluginRef,
} from './agent/definition.ts';
export {
  AgentConfigError,
  CoreError,
  PermissionDeniedError,
  PluginCompatibilityError,
  ToolTimeoutError,
} from './errors.ts';
export {
  type KnowledgeRetrieval,
  type KnowledgeRetriever,
  knowledgeContext,
} from './knowledge/knowledge.ts';
export {
  embeddingModelId,
  embeddingModelOf,
  type ResolvedEmbeddingModel,
} from './memory/embedding-model.ts';
export { extractUserFacts } from './memory/extract.ts';
export { createInMemoryMemoryStore } from './memory/in-memory-memory-store.ts';
export type {
  MemoryHit,
  MemoryRecord,
  MemoryScopeKind,
  MemorySearch,
  MemoryStore,
  RecallMethod,
  RecallResult,
} from './memory/memory-store.ts';
export {
  type AddressKind,
  type ClassifiedAddress,
  classifyAddress,
  isLoopbackAddress,
  isLoopbackHost,
  isPublicAddress,
} from './net/address.ts';
export {
  listedHost,
  PROVIDER_KEY_HOSTS,
  type SecretDestinationPolicy,
  type SecretUse,
  secretDestinationRefusal,
} from './net/secret-destination.ts';
export { assertCompatible } from './plugins/compatibility.ts';
export {
  type ButtonPress,
  type ChannelHost,
  type ChannelSession,
  type ChatRef,
  type InboundMessage,
  type PlatformOutput,
  PlatformRateLimited,
  type ReplyButton,
  type SentMessage,
  type WebhookRequest,
  type WebhookResponse,
} from './plugins/connector.ts';
export {
  type Connector,
  type ContextProvider,
  definePlugin,
  type Evaluator,
  type PluginDefinition,
  type PluginGuards,
  type PluginPermissions,
} from './plugins/define-plugin.ts';
export {
  type BoundTool,
  createPluginHost,
  type PluginAuditEvent,
  type PluginHost,
  type PluginHostOptions,
  type PluginLogEntry,
} from './plugins/plugin-host.ts';
export { createRedactor } from './plugins/redact.ts';
export {
  type ApprovalDecision,
  type ApprovalGate,
  createApprovalGate,
} from './runtime/approvals.ts';
export {
  applyReplacements,
  type BoundInboundGuard,
  combineInboundGuards,
  type GuardServices,
  type GuardSignal,
  type GuardSource,
  type InboundGuard,
  type InboundGuardResult,
  type WorkspaceTrust,
} from './runtime/inbound-guard.ts';
export {
  createNestedEvents,
  type NestedEvents,
  type NestedEventsSource,
} from './runtime/nested-events.ts';
export { type ResumePoint, resumePointOf, type UnresolvedCall } from './runtime/resume.ts';
export {
  type RunAbortReason,
  type RunCapabilities,
  type RunRequest,
  type RunResume,
  runAgent,
} from './runtime/run-agent.ts';
export {
  createInMemoryRunStore,
  type RunEnd,
  type RunRecord,
  type RunStore,
  type StoredMessage,
} from './runtime/run-store.ts';
export {
  defineTool,
  type ToolDefinition,
  toModelTool,
  validateToolArgs,
} from './tools/define-tool.ts';
export type { ToolContext, ToolLogger, ToolMemory } from './tools/tool-context.ts';
export { CORE_VERSION, PLUGIN_CONTRACT } from './version.ts';
