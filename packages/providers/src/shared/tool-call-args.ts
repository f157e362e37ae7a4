import type { StepEventPayload } from '@parley/protocol';

/**
 * Ends a tool call at the provider's block end: `tool_call.complete` with the parsed
 * arguments (`{}` for empty text), or `tool_call.invalid` when the text is not JSON or the
 * provider never named the tool. Never called earlier than the block end: an argument buffer
 * that already parses may still be the prefix of a longer one (vercel/ai #13137).
 */
export function completeToolCall(
  toolCallId: string,
  name: string,
  argsText: string,
): StepEventPayload {
  const invalid = (reason: string): StepEventPayload => ({
    type: 'tool_call.invalid',
    toolCallId,
    name,
    argsText,
    reason,
  });
  if (name === '') return invalid('the provider sent no tool name');
  if (argsText.trim() === '')
    return { type: 'tool_call.complete', toolCallId, name, args: {}, argsText };
  try {
    return { type: 'tool_call.complete', toolCallId, name, args: JSON.parse(argsText), argsText };
  } catch {
    return invalid('the arguments are not valid JSON');
  }
}
