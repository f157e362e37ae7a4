/**
 * Whether an event is output a client may already have shown: a non-empty text or reasoning
 * delta, or any part of a tool call. The one definition of "content seen": a retry (in the
 * provider adapters) and a fallback to the next model (in the run loop) happen only before
 * it, and time to first token (a step's and a run's) is measured to it. A bare `text.start`
 * is not content (Anthropic opens a block before its first delta: an `overloaded_error` right
 * after it is still retried), nor is an empty delta (a keep-alive or a role-only chunk).
 */
export function carriesContent(event: { type: string; delta?: string }): boolean {
  switch (event.type) {
    case 'text.delta':
    case 'reasoning.delta':
      return event.delta !== '';
    case 'tool_call.start':
    case 'tool_call.delta':
    case 'tool_call.complete':
    case 'tool_call.invalid':
      return true;
    default:
      return false;
  }
}
