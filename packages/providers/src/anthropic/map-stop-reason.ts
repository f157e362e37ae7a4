import type { UnifiedFinishReason } from '@parley/protocol';

/**
 * Anthropic `stop_reason` → unified (Messages API reference; same table as vercel/ai
 * `map-anthropic-stop-reason.ts`). `pause_turn` is a paused server-tool turn: the model stopped
 * normally and can be continued.
 */
export function mapAnthropicStopReason(raw: string): UnifiedFinishReason {
  switch (raw) {
    case 'end_turn':
    case 'stop_sequence':
    case 'pause_turn':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool-calls';
    case 'refusal':
      return 'content-filter';
    default:
      return 'other';
  }
}
