import { assertConformance, createEventStamper, type ParleyEvent } from '@parley/protocol';
import type { LanguageModel, ModelRequest, StreamOptions } from '../../src/model.ts';

export const hello: ModelRequest = { messages: [{ role: 'user', content: 'hello there' }] };

/**
 * Runs a model call the way the run loop does: stamps every payload into a wire event and
 * checks the result against every Parley Stream v1 invariant (step scope).
 */
export async function collect(
  model: LanguageModel,
  request: ModelRequest = hello,
  options: StreamOptions = {},
): Promise<ParleyEvent[]> {
  const stamper = createEventStamper({ runId: 'run_test' });
  const events: ParleyEvent[] = [];
  for await (const payload of model.stream(request, options)) events.push(stamper.stamp(payload));
  assertConformance(events, { scope: 'steps' });
  return events;
}

export function lastFinish(events: ParleyEvent[]) {
  const last = events.at(-1);
  if (last?.type !== 'step.finish')
    throw new Error(`the last event is ${last?.type}, not step.finish`);
  return last;
}
