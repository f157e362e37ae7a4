/**
 * The protocol demo: plays the example run through the real SSE encoder and decoder (in
 * 7-byte slices, as a slow network would deliver it), checks it against the conformance
 * rules and renders it with the stream reducer, the same way every Parley client does.
 *
 *   npm run demo            render the run
 *   npm run demo -- --raw   print the SSE frames as they would cross the wire
 */
import {
  checkConformance,
  EXAMPLE_STREAM,
  encodeEvent,
  HEARTBEAT_FRAME,
  initialStreamState,
  type ParleyEvent,
  readParleyEvents,
  reduceEvent,
  toolCallsOf,
  usageOf,
} from '../src/index.ts';

const raw = process.argv.includes('--raw');
const out = (text: string) => process.stdout.write(text);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function* wire(): AsyncGenerator<Uint8Array> {
  const bytes = new TextEncoder().encode(
    HEARTBEAT_FRAME + EXAMPLE_STREAM.map(encodeEvent).join(''),
  );
  for (let i = 0; i < bytes.length; i += 7) yield bytes.subarray(i, i + 7);
}

async function main() {
  out('Parley: protocol demo (Parley Stream v1)\n');
  out(
    'An example run (written by hand; no model is called), streamed through the SSE codec\nand rendered by the stream reducer.\n\n',
  );
  if (raw) {
    for (const event of EXAMPLE_STREAM) out(encodeEvent(event));
    return;
  }

  const received: ParleyEvent[] = [];
  let state = initialStreamState();
  let lastT = 0;
  for await (const event of readParleyEvents(wire())) {
    await sleep(Math.min(event.t - lastT, 250));
    lastT = event.t;
    received.push(event);
    state = reduceEvent(state, event);
    switch (event.type) {
      case 'step.start':
        out(`\n[step ${event.stepIndex + 1}: ${event.provider}/${event.model}]\n`);
        break;
      case 'text.delta':
        out(event.delta);
        break;
      case 'text.end':
        out('\n');
        break;
      case 'tool_call.complete':
        out(`→ tool call ${event.name}(${event.argsText})\n`);
        break;
      case 'tool.result':
        out(`← tool result ${JSON.stringify(event.output)} in ${event.durationMs} ms\n`);
        break;
      case 'memory.recall':
        out(`(recalled ${event.hits.length} memory)\n`);
        break;
      case 'memory.write':
        out(`(remembered: ${event.summary})\n`);
        break;
      case 'step.finish':
        out(`[finish: ${event.finishReason.unified}, ttft ${event.timing.ttftMs} ms]\n`);
        break;
    }
  }

  const violations = checkConformance(received);
  const usage = usageOf(state);
  out(`\nrun ${state.status}: ${received.length} events, ${toolCallsOf(state).length} tool call, `);
  out(
    `${usage.inputTokens} input / ${usage.outputTokens} output tokens, ttft ${state.timing?.ttftMs} ms\n`,
  );
  out(
    violations.length === 0
      ? 'conformance: all Parley Stream v1 invariants hold\n'
      : `conformance: ${violations.length} violations: ${violations.map((v) => v.rule).join(', ')}\n`,
  );
  out('\nThis is the contract demo; `npm test` runs the whole suite. See docs/streaming.md.\n');
  if (violations.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
