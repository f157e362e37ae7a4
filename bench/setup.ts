import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createParleyClient } from '@parley/client';
import { NODE, ROOT, type ServerProcess } from './lib.ts';

/** The provider stand-in as a child process (its timers never share the bench's event loop). */
export async function startStandInProcess(): Promise<{ url: string; stop(): void }> {
  const child = spawn(NODE, [join(ROOT, 'bench/stand-in.ts')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (c: Buffer) =>
      resolve((JSON.parse(c.toString()) as { url: string }).url),
    );
    child.once('exit', (code) => reject(new Error(`stand-in exited ${code}`)));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

export const standInBase = (
  url: string,
  shape: { ttftMs: number; chunks: number; gapMs: number; plain?: boolean },
) =>
  `${url}/ttft/${shape.ttftMs}/chunks/${shape.chunks}/gap/${shape.gapMs}${shape.plain ? '/plain' : ''}/v1`;

/** Deploys an OpenAI-format agent that talks to the stand-in with the given shape. */
export async function deployBenchAgent(
  server: ServerProcess,
  name: string,
  baseURL: string,
  options: { tools?: boolean } = {},
) {
  const client = createParleyClient({ baseUrl: server.url, token: server.token });
  await client.secrets.put(server.workspaceId, 'BENCH_KEY', 'sk-bench-0000000000000000');
  await client.agents.create(server.workspaceId, {
    definition: {
      name,
      instructions: 'Answer.',
      model: { provider: 'openai', model: 'bench-model', baseURL, apiKeySecret: 'BENCH_KEY' },
      memory: { enabled: false, autoExtract: false },
      ...(options.tools ? { plugins: [{ name: '@parley/plugin-basics' }] } : {}),
    },
    deploy: true,
  });
}

export const isParleyText = (frame: string) => frame.includes('\nevent: text.delta\n');
export const isOpenAiText = (frame: string) => frame.includes('"content":"w');

/**
 * One run through Parley: POST …/runs with the token, SSE back. `headers` are sent as well
 * (a caller's `traceparent`, for example).
 */
export function parleyRun(
  server: Pick<ServerProcess, 'url' | 'token' | 'workspaceId'>,
  agent: string,
  headers: Record<string, string> = {},
) {
  return fetch(`${server.url}/v1/workspaces/${server.workspaceId}/agents/${agent}/runs`, {
    method: 'POST',
    headers: {
      ...headers,
      authorization: `Bearer ${server.token}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ input: 'Say something.' }),
  });
}

/** The same model call made directly to the stand-in (the baseline). */
export function directRun(baseURL: string) {
  return fetch(`${baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: 'Bearer sk-bench', 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'bench-model',
      stream: true,
      stream_options: { include_usage: true },
      messages: [
        { role: 'system', content: 'Answer.' },
        { role: 'user', content: 'Say something.' },
      ],
    }),
  });
}
