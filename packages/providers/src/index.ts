export { createModel, ModelConfigError } from './create-model.ts';
export {
  type AssistantReasoning,
  type AssistantToolCall,
  type ContentPart,
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
export type { ScriptAction, ScriptTurn } from './scripted/script.ts';
export { createScriptedModel, type ScriptedModelSettings } from './scripted/scripted-model.ts';
