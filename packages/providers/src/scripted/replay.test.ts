import { EXAMPLE_STREAM, type ParleyEvent, type StepEventPayload } from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import { scriptFromEvents } from './replay.ts';
import { ScriptTurnSchema } from './script.ts';
import { createScriptedModel } from './scripted-model.ts';

/*
 * Replaying a recorded run (docs/evals.md): its model calls become the scripted provider's
 * turns, and playing them gives back the same parts, deltas, tool calls and finish.
 */

const recorded = EXAMPLE_STREAM as ParleyEvent[];
const kept = (events: readonly { type: string }[]) =>
  events
    .filter((e) => /^(text|reasoning)\.delta$|^tool_call\.complete$|^step\.finish$/.test(e.type))
    .map((e) => {
      const { v, seq, runId, stepId, t, timing, providerRequestId, toolCallId, ...rest } =
        e as Record<string, unknown>;
      return { ...rest, ...(e.type === 'step.finish' ? { timing: undefined } : {}) };
    });

describe('scriptFromEvents', () => {
  it('turns each model call of a recorded run into a turn that plays back the same', async () => {
    const script = scriptFromEvents(recorded);
    const steps = recorded.filter((e) => e.type === 'step.start').length;
    expect(script).toHaveLength(steps);
    for (const turn of script) expect(ScriptTurnSchema.safeParse(turn).success).toBe(true);

    const model = createScriptedModel({ script });
    const played: StepEventPayload[] = [];
    for (let call = 0; call < steps; call++)
      for await (const part of model.stream({ messages: [{ role: 'user', content: 'again' }] }))
        played.push(part);
    expect(kept(played).map((e) => ({ ...e, partId: undefined }))).toEqual(
      kept(recorded).map((e) => ({ ...e, partId: undefined })),
    );
  });

  it('leaves out a step the run discarded', () => {
    const reset = recorded.flatMap((e) =>
      e.type === 'step.start' && e.stepIndex === 0
        ? [e, { ...e, type: 'step.reset', reason: 'retry' } as ParleyEvent, e]
        : [e],
    );
    expect(scriptFromEvents(reset)).toHaveLength(scriptFromEvents(recorded).length);
  });
});
