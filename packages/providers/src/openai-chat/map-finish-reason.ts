import type { UnifiedFinishReason } from '@parley/protocol';

/**
 * Chat Completions `finish_reason` → unified. `function_call` is the legacy name of
 * `tool_calls`; OpenRouter adds `error` (with a top-level `error` object in the same chunk).
 */
export function mapChatFinishReason(raw: string): UnifiedFinishReason {
  switch (raw) {
    case 'stop':
      return 'stop';
    case 'length':
      return 'length';
    case 'tool_calls':
    case 'function_call':
      return 'tool-calls';
    case 'content_filter':
      return 'content-filter';
    case 'error':
      return 'error';
    default:
      return 'other';
  }
}
