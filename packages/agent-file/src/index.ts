// @parley/agent-file: agent definitions as files people write. Parses agent.yaml and
// agent.json with the line and column of every problem and a did-you-mean for unknown keys,
// writes them back, and imports ElizaOS characters. The definition itself (its schema and
// defineAgent) is @parley/core's; this package is what reads and writes it as text.
export {
  AgentDefinitionError,
  type AgentDefinitionIssue,
  AgentFileError,
  type AgentFileErrorCode,
  ElizaCharacterError,
} from './agent-errors.ts';
export { type AgentValidation, validateAgentValue } from './definition-issues.ts';
export {
  type ElizaImportResult,
  type ElizaKnowledge,
  importElizaCharacter,
  type SecretToSet,
} from './eliza-import.ts';
export { findKeyShaped, type KeyShapedMatch } from './key-shapes.ts';
export {
  loadAgentFile,
  type ParseAgentOptions,
  parseAgentJson,
  parseAgentYaml,
  stringifyAgentYaml,
} from './load.ts';
