import type { StepEventPayload } from '@parley/protocol';

/**
 * Tracks the parts an adapter has started but not ended, so that an error, a cancellation
 * or a truncated stream can close them before `step.finish` (the contract requires every
 * part to end inside its step). An interrupted tool call ends as `tool_call.invalid`.
 */
export function createOpenParts() {
  const open = new Map<
    string,
    { kind: 'text' | 'reasoning' | 'tool_call'; name: string; args: string }
  >();
  return {
    /** Records start/delta/end payloads as they are yielded; returns the payload unchanged. */
    track<P extends StepEventPayload>(payload: P): P {
      switch (payload.type) {
        case 'text.start':
        case 'reasoning.start':
          open.set(payload.partId, {
            kind: payload.type === 'text.start' ? 'text' : 'reasoning',
            name: '',
            args: '',
          });
          break;
        case 'tool_call.start':
          open.set(payload.toolCallId, { kind: 'tool_call', name: payload.name, args: '' });
          break;
        case 'tool_call.delta': {
          const part = open.get(payload.toolCallId);
          if (part) part.args += payload.argsDelta;
          break;
        }
        case 'text.end':
        case 'reasoning.end':
          open.delete(payload.partId);
          break;
        case 'tool_call.complete':
        case 'tool_call.invalid':
          open.delete(payload.toolCallId);
          break;
      }
      return payload;
    },
    get size() {
      return open.size;
    },
    /** Payloads that end every open part, in start order; the tracker is empty afterwards. */
    closeAll(reason: string): StepEventPayload[] {
      const closing: StepEventPayload[] = [];
      for (const [id, part] of open) {
        if (part.kind === 'text') closing.push({ type: 'text.end', partId: id });
        else if (part.kind === 'reasoning') closing.push({ type: 'reasoning.end', partId: id });
        else
          closing.push({
            type: 'tool_call.invalid',
            toolCallId: id,
            name: part.name,
            argsText: part.args,
            reason,
          });
      }
      open.clear();
      return closing;
    },
  };
}
export type OpenParts = ReturnType<typeof createOpenParts>;
