export { createAnthropicModel } from './anthropic/anthropic-model.ts';
export {
  DEFAULT_BASE_URLS,
  DEFAULT_EMBEDDING_MODELS,
  DEFAULT_KEY_SECRETS,
  PROVIDER_CATALOGUE,
  PROVIDER_KEY_HOSTS,
  PROVIDER_KEY_PAGES,
  type ProviderFacts,
  providerFacts,
} from './catalogue.ts';
export { createModel, ModelConfigError } from './create-model.ts';
export {
  type AssistantReasoning,
  type AssistantToolCall,
  type ContentPart,
  type EmbedOptions,
  type EmbedResult,
  type LanguageModel,
  type ModelMessage,
  type ModelRequest,
  type ModelSettings,
  type ModelTool,
  PROVIDER_NAMES,
  type ProviderName,
  type StreamOptions,
  type ToolChoice,
} from './model.ts';
export { createOpenAIChatModel } from './openai-chat/openai-chat-model.ts';
export { createOpenAICompatibleModel } from './openai-compatible/openai-compatible-model.ts';
export { createOpenAIResponsesModel } from './openai-responses/openai-responses-model.ts';
export { createOpenRouterModel } from './openrouter/openrouter-model.ts';
export { scriptFromEvents } from './scripted/replay.ts';
export {
  type ScriptAction,
  ScriptActionSchema,
  type ScriptTurn,
  ScriptTurnSchema,
} from './scripted/script.ts';
export { createScriptedModel, type ScriptedModelSettings } from './scripted/scripted-model.ts';
export { ProviderError } from './shared/provider-error.ts';
