import { fmt, percentiles, type ServerProcess, table, timeStream } from './lib.ts';
import type { Context, ScenarioResult } from './scenarios.ts';
import { deployBenchAgent, isOpenAiText, isParleyText, parleyRun, standInBase } from './setup.ts';

/*
 * What the OpenAI Chat Completions encoding adds to a run's time to first token: the same
 * agent, the same stand-in answer, one run at a time, alternating Parley's own SSE
 * (POST …/runs) and `POST /openai/v1/chat/completions` with `stream: true`, so load and
 * warm-up fall on both alike. Target (issue #22): at most 1 ms added at p50.
 */

const SHAPE = { ttftMs: 20, chunks: 20, gapMs: 0 };

/** One streamed completion through the OpenAI-compatible endpoint. */
function chatCompletionRun(server: ServerProcess, agent: string) {
  return fetch(`${server.url}/openai/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: agent,
      stream: true,
      messages: [{ role: 'user', content: 'Say something.' }],
    }),
  });
}

export async function chatCompletionsTtft(
  ctx: Context,
  server: ServerProcess,
): Promise<ScenarioResult> {
  const agent = 'bench-openai';
  await deployBenchAgent(server, agent, standInBase(ctx.standIn, SHAPE));
  const n = ctx.quick ? 40 : 150;
  const parley: number[] = [];
  const openai: number[] = [];
  const added: number[] = [];
  const once = async (kind: 'parley' | 'openai') => {
    const t0 = performance.now();
    const timed =
      kind === 'parley'
        ? await timeStream(await parleyRun(server, agent), t0, isParleyText)
        : await timeStream(await chatCompletionRun(server, agent), t0, isOpenAiText);
    return timed.firstMs;
  };
  for (let i = 0; i < 10; i++) {
    await once('parley');
    await once('openai');
  }
  for (let i = 0; i < n; i++) {
    // Alternating which goes first, so neither always follows the other.
    const first = i % 2 === 0 ? 'parley' : 'openai';
    const a = await once(first);
    const b = await once(first === 'parley' ? 'openai' : 'parley');
    const [p, o] = first === 'parley' ? [a, b] : [b, a];
    parley.push(p);
    openai.push(o);
    added.push(o - p);
  }
  const p = percentiles(parley);
  const o = percentiles(openai);
  const d = percentiles(added);
  return {
    id: 'clients-openai',
    title: `Chat Completions TTFT over Parley's own SSE, same agent, one run at a time (stand-in TTFT ${SHAPE.ttftMs} ms, ${SHAPE.chunks} chunks; ${n} pairs)`,
    markdown: table(
      ['stream', 'TTFT p50 / p99 ms'],
      [
        ['Parley SSE (POST …/runs)', `${fmt(p.p50)} / ${fmt(p.p99)}`],
        ['OpenAI Chat Completions (stream: true)', `${fmt(o.p50)} / ${fmt(o.p99)}`],
        ['added, per pair', `${fmt(d.p50)} / ${fmt(d.p99)}`],
      ],
    ),
    data: { parley: p, openai: o, added: d },
  };
}
