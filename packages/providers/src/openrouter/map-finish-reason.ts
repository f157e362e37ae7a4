import type { FinishReason } from '@parley/protocol';
import { mapChatFinishReason } from '../openai-chat/map-finish-reason.ts';

/**
 * OpenRouter normalises `finish_reason` to the Chat Completions values (plus `error`) and keeps
 * the upstream provider's own value in `native_finish_reason` (`end_turn`, `tool_use`, `STOP`),
 * which Parley passes on as `finishReason.native`.
 */
export function mapOpenRouterFinish(raw: string, native: string | undefined): FinishReason {
  return { unified: mapChatFinishReason(raw), raw, ...(native ? { native } : {}) };
}
