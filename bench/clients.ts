import { randomUUID } from 'node:crypto';
import { fmt, percentiles, type ServerProcess, table, timeStream } from './lib.ts';
import type { Context, ScenarioResult } from './scenarios.ts';
import { deployBenchAgent, isOpenAiText, isParleyText, parleyRun, standInBase } from './setup.ts';

/*
 * What each client protocol's encoding adds to a run's time to first token (issue #22, target
 * at most 1 ms at p50): the same agent and stand-in answer, one run at a time, Parley's own SSE
 * (POST …/runs) against OpenAI Chat Completions (`stream: true`), the AI SDK's UI message
 * stream (`POST …/chat`, what useChat sends) and A2A (`SendStreamingMessage`), taken in turns
 * whose order rotates, so load and warm-up fall on all alike.
 */

const SHAPE = { ttftMs: 20, chunks: 20, gapMs: 0 };

const post = (server: ServerProcess, path: string, body: unknown) =>
  fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

interface Protocol {
  name: string;
  start(server: ServerProcess, agent: string): Promise<Response>;
  isText(frame: string): boolean;
}

const PROTOCOLS: Protocol[] = [
  { name: 'Parley SSE (POST …/runs)', start: parleyRun, isText: isParleyText },
  {
    name: 'OpenAI Chat Completions (stream: true)',
    start: (server, agent) =>
      post(server, '/openai/v1/chat/completions', {
        model: agent,
        stream: true,
        messages: [{ role: 'user', content: 'Say something.' }],
      }),
    isText: isOpenAiText,
  },
  {
    name: 'AI SDK UI message stream (useChat)',
    start: (server, agent) =>
      post(server, `/v1/workspaces/${server.workspaceId}/agents/${agent}/chat`, {
        id: randomUUID(),
        trigger: 'submit-message',
        messages: [
          { id: randomUUID(), role: 'user', parts: [{ type: 'text', text: 'Say something.' }] },
        ],
      }),
    isText: (frame) => frame.includes('"type":"text-delta"'),
  },
  {
    name: 'A2A (SendStreamingMessage)',
    start: (server, agent) =>
      post(server, `/a2a/${server.workspaceId}/${agent}`, {
        jsonrpc: '2.0',
        id: 1,
        method: 'SendStreamingMessage',
        params: {
          message: {
            messageId: randomUUID(),
            role: 'ROLE_USER',
            parts: [{ text: 'Say something.' }],
          },
        },
      }),
    isText: (frame) => frame.includes('"artifactUpdate"') && frame.includes('"text":"w'),
  },
];

export async function clientsTtft(ctx: Context, server: ServerProcess): Promise<ScenarioResult> {
  const agent = 'bench-clients';
  await deployBenchAgent(server, agent, standInBase(ctx.standIn, SHAPE));
  const n = ctx.quick ? 30 : 120;
  const once = async (protocol: Protocol) => {
    const t0 = performance.now();
    const response = await protocol.start(server, agent);
    if (!response.ok) throw new Error(`${protocol.name}: HTTP ${response.status}`);
    const timed = await timeStream(response, t0, protocol.isText);
    if (Number.isNaN(timed.firstMs)) throw new Error(`${protocol.name}: no text arrived`);
    return timed.firstMs;
  };
  for (let i = 0; i < 5; i++) for (const protocol of PROTOCOLS) await once(protocol);
  const ttfts = PROTOCOLS.map(() => [] as number[]);
  const added = PROTOCOLS.map(() => [] as number[]);
  for (let i = 0; i < n; i++) {
    // One round: every protocol once, starting with a different one each round.
    const round: number[] = [];
    for (let k = 0; k < PROTOCOLS.length; k++) {
      const index = (i + k) % PROTOCOLS.length;
      round[index] = await once(PROTOCOLS[index]!);
    }
    round.forEach((ms, index) => {
      ttfts[index]!.push(ms);
      added[index]!.push(ms - round[0]!);
    });
  }
  const rows = PROTOCOLS.map((protocol, index) => {
    const t = percentiles(ttfts[index]!);
    const d = percentiles(added[index]!);
    return [
      protocol.name,
      `${fmt(t.p50)} / ${fmt(t.p99)}`,
      index === 0 ? '—' : `${fmt(d.p50)} / ${fmt(d.p99)}`,
    ];
  });
  return {
    id: 'clients',
    title: `Client protocols' TTFT over Parley's own SSE, same agent, one run at a time (stand-in TTFT ${SHAPE.ttftMs} ms, ${SHAPE.chunks} chunks; ${n} rounds)`,
    markdown: table(['stream', 'TTFT p50 / p99 ms', 'added over Parley SSE, p50 / p99 ms'], rows),
    data: Object.fromEntries(
      PROTOCOLS.map((protocol, index) => [
        protocol.name,
        { ttft: percentiles(ttfts[index]!), added: percentiles(added[index]!) },
      ]),
    ),
  };
}
