import type { ParleyEvent } from '@parley/protocol';
import type { ScriptAction, ScriptTurn } from './script.ts';

/**
 * A recorded run as a script for the scripted provider (docs/evals.md, offline regression
 * tests): each model call the run kept becomes one turn, with its reasoning, its text (the same
 * deltas), its tool calls (the same argument text) and its finish, in stream order. A step the
 * run discarded (`step.reset`) is left out; a step that failed replays its error. Tools are not
 * recorded: they run again when the script is played. Events of child runs are ignored.
 */
export function scriptFromEvents(events: readonly ParleyEvent[]): ScriptTurn[] {
  const turns: ScriptTurn[] = [];
  let turn: ScriptAction[] | undefined;
  const parts = new Map<string, Extract<ScriptAction, { type: 'text' | 'reasoning' }>>();
  const deltas = new Map<string, string[]>();
  for (const event of events) {
    switch (event.type) {
      case 'step.start':
        turn = [];
        parts.clear();
        deltas.clear();
        break;
      case 'text.start':
      case 'reasoning.start': {
        const part = {
          type: event.type === 'text.start' ? 'text' : 'reasoning',
          text: '',
        } as const;
        parts.set(event.partId, { ...part });
        deltas.set(event.partId, []);
        turn?.push(parts.get(event.partId)!);
        break;
      }
      case 'text.delta':
      case 'reasoning.delta': {
        const part = parts.get(event.partId);
        if (part) part.text += event.delta;
        deltas.get(event.partId)?.push(event.delta);
        break;
      }
      case 'tool_call.complete':
      case 'tool_call.invalid':
        turn?.push({
          type: 'tool_call',
          name: event.name,
          argsText: event.argsText,
          id: event.toolCallId,
        });
        break;
      case 'step.reset':
        turn = undefined;
        break;
      case 'step.finish':
        if (!turn) break;
        for (const [partId, part] of parts)
          if (part.type === 'text') part.deltas = deltas.get(partId) ?? [part.text];
        turn.push(
          event.error
            ? {
                type: 'error',
                code: event.error.code,
                message: event.error.message,
                retryable: false,
              }
            : {
                type: 'finish',
                reason: event.finishReason.unified,
                ...(event.finishReason.raw ? { raw: event.finishReason.raw } : {}),
                ...(event.usage ? { usage: event.usage } : {}),
              },
        );
        turns.push(turn);
        turn = undefined;
        break;
      default:
        break;
    }
  }
  return turns;
}
