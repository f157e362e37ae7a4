import type { Message, Run } from '@parley/client';
import type { MessagePart, ToolCallPart } from '@parley/protocol';
import { type TurnView, turnFromRun } from './transcript.tsx';

/*
 * A stored conversation as turns: the messages of each run (the person's input, the
 * assistant's text, reasoning and tool calls, the tools' results) become the same parts a
 * live stream folds into, so one renderer shows both.
 */

type StoredPart = { kind: string; [key: string]: unknown };

function textOfParts(parts: StoredPart[]): string {
  return parts
    .filter((p) => p.kind === 'text' && typeof p.text === 'string')
    .map((p) => p.text as string)
    .join('');
}

export function turnsFromHistory(messages: readonly Message[], runs: readonly Run[]): TurnView[] {
  const runById = new Map(runs.map((r) => [r.id, r]));
  const turns: { key: string; input: string; parts: MessagePart[]; runId: string | null }[] = [];
  let current: (typeof turns)[number] | undefined;
  for (const message of messages) {
    const content = message.content as StoredPart[];
    if (message.role === 'user') {
      current = {
        key: message.id,
        input: textOfParts(content),
        parts: [],
        runId: message.runId,
      };
      turns.push(current);
      continue;
    }
    if (!current || message.role === 'system') continue;
    content.forEach((part, index) => {
      const partId = `${message.id}:${index}`;
      if (part.kind === 'text' || part.kind === 'refusal')
        current!.parts.push({
          kind: part.kind,
          partId,
          text: String(part.text ?? ''),
          done: true,
        });
      else if (part.kind === 'reasoning')
        current!.parts.push({
          kind: 'reasoning',
          partId,
          visibility: 'full',
          text: String(part.text ?? ''),
          done: true,
        });
      else if (part.kind === 'tool_call') {
        const call: ToolCallPart = {
          kind: 'tool_call',
          toolCallId: String(part.toolCallId),
          name: String(part.name),
          index,
          argsText: JSON.stringify(part.args ?? {}),
          args: part.args,
          status: 'ready',
        };
        current!.parts.push(call);
      } else if (part.kind === 'tool_result') {
        const at = current!.parts.findIndex(
          (p) => p.kind === 'tool_call' && p.toolCallId === part.toolCallId,
        );
        const call = current!.parts[at] as ToolCallPart | undefined;
        if (call)
          current!.parts[at] = {
            ...call,
            status: part.ok ? 'succeeded' : 'failed',
            result: {
              ok: Boolean(part.ok),
              output: part.output,
              ...(typeof part.error === 'string' ? { error: part.error } : {}),
              durationMs: typeof part.durationMs === 'number' ? part.durationMs : 0,
            },
          };
      }
    });
  }
  return turns.map((t) =>
    turnFromRun(t.key, t.input, t.parts, t.runId ? runById.get(t.runId) : undefined),
  );
}
