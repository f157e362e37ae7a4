import { randomUUID } from 'node:crypto';
import {
  type Client,
  ClientFactory,
  DefaultAgentCardResolver,
  JsonRpcTransportFactory,
} from '@a2a-js/sdk/client';
import { LegacyJsonRpcTransport } from '@a2a-js/sdk/compat/v0_3/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClientsFixture, startClientsFixture } from './support/clients.ts';

/*
 * Each agent as an A2A server, through the official @a2a-js/sdk client over real sockets:
 * card discovery, send, stream, get, cancel (A2A 1.0, and the 0.3 method names through the
 * SDK's v0.3 transport), JSON-RPC errors, runs in the runs list, and who may use it.
 */

let f: ClientsFixture;
beforeAll(async () => {
  f = await startClientsFixture();
});
afterAll(async () => {
  await f?.server.close();
});

const withToken =
  (token: string): typeof fetch =>
  (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set('authorization', `Bearer ${token}`);
    return fetch(input, { ...init, headers });
  };
const base = (agent: string) => `${f.server.url}/a2a/${f.workspaceId}/${agent}`;

async function clientFor(agent: string, token = f.token): Promise<Client> {
  const fetchImpl = withToken(token);
  const factory = new ClientFactory({
    transports: [new JsonRpcTransportFactory({ fetchImpl })],
    cardResolver: new DefaultAgentCardResolver({ fetchImpl }),
  });
  // The card sits under the agent's URL: the full URL, no path appended.
  return factory.createFromUrl(`${base(agent)}/.well-known/agent-card.json`, '');
}

/** A user message as the SDK's types spell it. */
const userMessage = (text: string, contextId = '') => ({
  messageId: randomUUID(),
  contextId,
  taskId: '',
  role: 1 /* ROLE_USER */,
  parts: [
    {
      content: { $case: 'text' as const, value: text },
      metadata: undefined,
      filename: '',
      mediaType: '',
    },
  ],
  metadata: undefined,
  extensions: [],
  referenceTaskIds: [],
});
const request = (
  text: string,
  options: { contextId?: string; returnImmediately?: boolean } = {},
) => ({
  tenant: '',
  message: userMessage(text, options.contextId),
  configuration: {
    acceptedOutputModes: ['text/plain'],
    taskPushNotificationConfig: undefined,
    returnImmediately: options.returnImmediately ?? false,
  },
  metadata: undefined,
});
const textOf = (task: {
  artifacts: { parts: { content?: { $case: string; value: unknown } }[] }[];
}) =>
  task.artifacts
    .flatMap((a) => a.parts)
    .map((p) => (p.content?.$case === 'text' ? p.content.value : ''))
    .join('');

describe('A2A (official @a2a-js/sdk client)', () => {
  it('discovers the card: JSON-RPC URL, A2A 1.0, bearer auth, streaming', async () => {
    const res = await fetch(`${base('calc')}/.well-known/agent-card.json`, {
      headers: { authorization: `Bearer ${f.token}` },
    });
    expect(res.status).toBe(200);
    const card = (await res.json()) as Record<string, unknown>;
    expect(card).toMatchObject({
      name: 'calc',
      supportedInterfaces: [
        { url: base('calc'), protocolBinding: 'JSONRPC', protocolVersion: '1.0' },
        { url: base('calc'), protocolBinding: 'JSONRPC', protocolVersion: '0.3' },
      ],
      capabilities: { streaming: true },
      securitySchemes: { bearer: { httpAuthSecurityScheme: { scheme: 'Bearer' } } },
    });
    // What a 0.3 reader looks for: the JSON-RPC URL, its version, bearer auth.
    expect(card).toMatchObject({
      url: base('calc'),
      protocolVersion: '0.3.0',
      preferredTransport: 'JSONRPC',
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      security: [{ bearer: [] }],
    });
    const client = await clientFor('calc');
    expect(client.protocolVersion).toBe('1.0');
    const parsed = await client.getAgentCard();
    expect(parsed.name).toBe('calc');
  });

  it('sends a message: the task is the run, completed with the answer; the contextId continues the conversation', async () => {
    const client = await clientFor('calc');
    const task = (await client.sendMessage(request('what is 6 * 7?'))) as {
      id: string;
      contextId: string;
      status: { state: number };
      artifacts: { parts: { content?: { $case: string; value: unknown } }[] }[];
    };
    expect(task.status.state).toBe(3 /* TASK_STATE_COMPLETED */);
    expect(textOf(task)).toBe('Let me compute that.It is 42.');
    const again = (await client.sendMessage(
      request('and again?', { contextId: task.contextId }),
    )) as { id: string; contextId: string };
    expect(again.contextId).toBe(task.contextId);
    const got = await client.getTask({ tenant: '', id: task.id, historyLength: undefined });
    expect(got).toMatchObject({ id: task.id, contextId: task.contextId, status: { state: 3 } });
    expect(textOf(got as never)).toBe('Let me compute that.It is 42.');

    const runs = await f.runs();
    const run = runs.find((r) => r.id === task.id)!;
    expect(run).toMatchObject({ status: 'succeeded', conversationId: task.contextId });
    expect(run.ttftMs).toBeGreaterThanOrEqual(0);
    expect(runs.find((r) => r.id === again.id)?.conversationId).toBe(task.contextId);
  });

  it('streams a message: the task, the answer as artifact chunks, the final status', async () => {
    const client = await clientFor('slow');
    const cases: string[] = [];
    let text = '';
    let taskId = '';
    let final = 0;
    for await (const event of client.sendMessageStream(request('talk'))) {
      const payload = event.payload!;
      cases.push(payload.$case);
      if (payload.$case === 'task') taskId = payload.value.id;
      if (payload.$case === 'artifactUpdate')
        for (const part of payload.value.artifact!.parts)
          if (part.content?.$case === 'text') text += part.content.value;
      if (payload.$case === 'statusUpdate') final = payload.value.status!.state;
    }
    expect(cases[0]).toBe('task');
    expect(cases.at(-1)).toBe('statusUpdate');
    expect(cases.filter((c) => c === 'artifactUpdate').length).toBeGreaterThan(10);
    expect(text).toBe(Array.from({ length: 30 }, (_, i) => `w${i} `).join(''));
    expect(final).toBe(3);
    const run = (await f.runs()).find((r) => r.id === taskId)!;
    expect(run.status).toBe('succeeded');
    expect(run.ttftMs).toBeGreaterThanOrEqual(0);
  });

  it('subscribes to a running task: replayed from its start, followed to its end', async () => {
    const client = await clientFor('slow');
    const started = (await client.sendMessage(request('talk', { returnImmediately: true }))) as {
      id: string;
    };
    let text = '';
    let final = 0;
    for await (const event of client.resubscribeTask({ tenant: '', id: started.id })) {
      const payload = event.payload!;
      if (payload.$case === 'artifactUpdate')
        for (const part of payload.value.artifact!.parts)
          if (part.content?.$case === 'text') text += part.content.value;
      if (payload.$case === 'statusUpdate') final = payload.value.status!.state;
    }
    expect(text).toBe(Array.from({ length: 30 }, (_, i) => `w${i} `).join(''));
    expect(final).toBe(3);
    // An ended task has nothing to follow.
    await expect(async () => {
      for await (const _ of client.resubscribeTask({ tenant: '', id: started.id })) break;
    }).rejects.toMatchObject({ name: 'UnsupportedOperationError' });
  });

  it('cancels a running task; a task that ended cannot be cancelled; an unknown task is TaskNotFound', async () => {
    const client = await clientFor('slow');
    const started = (await client.sendMessage(request('talk', { returnImmediately: true }))) as {
      id: string;
      status: { state: number };
    };
    expect(started.status.state).toBe(2 /* TASK_STATE_WORKING */);
    const cancelled = await client.cancelTask({ tenant: '', id: started.id, metadata: undefined });
    expect(cancelled.status!.state).toBe(5 /* TASK_STATE_CANCELED */);
    expect((await f.runs()).find((r) => r.id === started.id)?.status).toBe('cancelled');
    await expect(
      client.cancelTask({ tenant: '', id: started.id, metadata: undefined }),
    ).rejects.toMatchObject({ name: 'TaskNotCancelableError' });
    await expect(
      client.getTask({ tenant: '', id: randomUUID(), historyLength: undefined }),
    ).rejects.toMatchObject({ name: 'TaskNotFoundError' });
  });

  it('a failed run is a failed task with the error as its status message', async () => {
    const client = await clientFor('broken');
    const task = (await client.sendMessage(request('hi'))) as {
      status: { state: number; message?: { parts: { content?: { value: unknown } }[] } };
    };
    expect(task.status.state).toBe(4 /* TASK_STATE_FAILED */);
    expect(String(task.status.message?.parts[0]?.content?.value)).toMatch(/credit/);
  });

  it('speaks the A2A 0.3 method names (message/send, message/stream, tasks/get, tasks/cancel)', async () => {
    const legacy = new LegacyJsonRpcTransport({
      endpoint: base('calc'),
      fetchImpl: withToken(f.token),
    });
    expect(legacy.protocolVersion).toMatch(/^0\.3/);
    const task = (await legacy.sendMessage(request('6 * 7?'))) as {
      id: string;
      status: { state: number };
    };
    expect(task.status.state).toBe(3);
    expect(
      textOf(
        (await legacy.getTask({ tenant: '', id: task.id, historyLength: undefined })) as never,
      ),
    ).toBe('Let me compute that.It is 42.');
    const cases: string[] = [];
    for await (const event of legacy.sendMessageStream(request('again')))
      cases.push(event.payload!.$case);
    expect(cases[0]).toBe('task');
    expect(cases.at(-1)).toBe('statusUpdate');
    await expect(
      legacy.cancelTask({ tenant: '', id: task.id, metadata: undefined }),
    ).rejects.toMatchObject({ name: 'TaskNotCancelableError' });

    // The raw wire: 0.3 names, kinds and lower-case states.
    const res = await fetch(base('calc'), {
      method: 'POST',
      headers: { authorization: `Bearer ${f.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tasks/get', params: { id: task.id } }),
    });
    expect(await res.json()).toMatchObject({
      jsonrpc: '2.0',
      id: 7,
      result: { kind: 'task', id: task.id, status: { state: 'completed' } },
    });
  });

  it('answers JSON-RPC errors for an unknown method and a message without text', async () => {
    const call = async (body: unknown) =>
      (await (
        await fetch(base('calc'), {
          method: 'POST',
          headers: { authorization: `Bearer ${f.token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      ).json()) as { error?: { code: number } };
    expect((await call({ jsonrpc: '2.0', id: 1, method: 'Nope', params: {} })).error?.code).toBe(
      -32601,
    );
    expect(
      (
        await call({
          jsonrpc: '2.0',
          id: 2,
          method: 'SendMessage',
          params: { message: { parts: [] } },
        })
      ).error?.code,
    ).toBe(-32602);
    expect((await call({ id: 3, method: 'GetTask' })).error?.code).toBe(-32600);
  });

  it('a viewer token cannot run; a token of another workspace sees none of its agents', async () => {
    const viewer = await clientFor('calc', f.viewerToken);
    await expect(viewer.sendMessage(request('hi'))).rejects.toThrow(/403/);
    await expect(clientFor('calc', f.strangerToken)).rejects.toThrow(/404/);
    const res = await fetch(base('calc'), {
      method: 'POST',
      headers: { authorization: `Bearer ${f.strangerToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'GetTask',
        params: { id: randomUUID() },
      }),
    });
    expect(res.status).toBe(404);
  });
});
