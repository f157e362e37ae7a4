import { readFileSync } from 'node:fs';
import type { ScriptTurn } from '@parley/providers';
import { Ajv2020 } from 'ajv/dist/2020.js';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, scriptedAgent, startTestServer, type TestServer } from './support/harness.ts';

/*
 * OpenAI Chat Completions through the official `openai` SDK, over loopback against a real
 * server whose agents play scripts: models, streamed and whole answers, a round
 * trip through a tool the client runs, typed errors, tokens of another workspace and with
 * fewer permissions, and every answer checked against the
 * schemas of OpenAI's published OpenAPI document (test/fixtures/openai-openapi-schemas.json).
 */

const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/openai-openapi-schemas.json', import.meta.url), 'utf8'),
) as { schemas: Record<string, unknown> };
/**
 * The document is OpenAPI 3.1 but still says `nullable: true` (3.0) in places: read as 3.1
 * means it, `anyOf` the schema and null.
 */
function nullableAsAnyOf(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(nullableAsAnyOf);
  if (!schema || typeof schema !== 'object') return schema;
  const { nullable, ...rest } = schema as Record<string, unknown>;
  const mapped = Object.fromEntries(
    Object.entries(rest).map(([key, value]) => [key, nullableAsAnyOf(value)]),
  );
  return nullable === true ? { anyOf: [mapped, { type: 'null' }] } : mapped;
}
const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
ajv.addSchema(
  JSON.parse(
    JSON.stringify({
      $id: 'openai',
      $defs: nullableAsAnyOf(fixture.schemas),
    }).replaceAll('#/components/schemas/', 'openai#/$defs/'),
  ),
);
/** Validates a body against one of OpenAI's schemas; returns the errors (none: valid). */
function schemaErrors(name: string, value: unknown) {
  const validate = ajv.getSchema(`openai#/$defs/${name}`)!;
  return validate(value) ? [] : validate.errors;
}

/** The `data:` payloads of an SSE body. */
const dataFrames = (text: string) =>
  text
    .split('\n\n')
    .filter((frame) => frame.startsWith('data: '))
    .map((frame) => frame.slice('data: '.length));

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'The weather in a city, looked up by the client',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' } },
      required: ['city'],
    },
  },
};

/** Calls the client's get_weather. */
const callsTool: ScriptTurn[] = [
  [
    { type: 'text', text: 'Let me look.' },
    {
      type: 'tool_call',
      name: 'get_weather',
      args: { city: 'Paris' },
      id: 'call_weather',
      deltas: ['{"city"', ':"Paris"}'],
    },
  ],
];
const answers: ScriptTurn[] = [[{ type: 'text', text: 'It is 14 °C in Paris.' }]];
/** Fails after some text (each run starts its script anew). */
const fails: ScriptTurn[] = [
  [
    { type: 'text', text: 'Partly ' },
    { type: 'error', code: 'provider_error', message: 'the provider broke', retryable: false },
  ],
];

describe('OpenAI Chat Completions through the openai SDK', () => {
  let server: TestServer;
  let owner: ReturnType<typeof client>;
  let ws: string;
  let openai: OpenAI;
  let viewer: OpenAI;
  let stranger: OpenAI;

  const sdk = (apiKey: string) =>
    new OpenAI({ apiKey, baseURL: `${server.url}/openai/v1`, maxRetries: 0, timeout: 10_000 });

  async function mintToken(scopes: string[]): Promise<string> {
    const res = await owner('POST', `/v1/workspaces/${ws}/tokens`, {
      name: `openai ${scopes.join(' ')}`,
      scopes,
    });
    expect(res.status, await res.clone().text()).toBe(201);
    return ((await res.json()) as { token: string }).token;
  }

  /** A token of a second workspace of the same owner. */
  async function strangerToken(): Promise<string> {
    const other = await server.store.system.workspaces.create({
      name: 'elsewhere',
      ownerUserId: server.ownerId,
    });
    const created = await server.store.withWorkspace(other.id, (scope) =>
      scope.apiTokens.create({
        name: 'elsewhere',
        scopes: ['agents:read', 'runs:create'],
        expiresAt: new Date(Date.now() + 86_400_000),
        createdBy: server.ownerId,
      }),
    );
    return created.token;
  }

  async function deploy(definition: unknown) {
    const res = await owner('POST', `/v1/workspaces/${ws}/agents`, { definition, deploy: true });
    expect(res.status, await res.clone().text()).toBe(201);
  }

  beforeAll(async () => {
    server = await startTestServer();
    owner = client(server.url, server.token);
    ws = server.workspaceId;
    await deploy(scriptedAgent('helper'));
    await deploy(scriptedAgent('weather', callsTool));
    await deploy(scriptedAgent('broken', fails));
    await deploy(
      scriptedAgent('calc', undefined, {
        plugins: [{ name: '@parley/plugin-basics', version: '^0.1.0' }],
      }),
    );
    // The draft answers once the client has run its tool: `weather@draft`.
    const draft = await owner('PUT', `/v1/workspaces/${ws}/agents/weather/draft`, {
      definition: scriptedAgent('weather', answers),
    });
    expect(draft.status, await draft.clone().text()).toBe(200);
    openai = sdk(server.token);
    viewer = sdk(await mintToken(['agents:read', 'runs:read']));
    stranger = sdk(await strangerToken());
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  it("lists the workspace's agents as models (ListModelsResponse)", async () => {
    const page = await openai.models.list();
    expect(page.data.map((model) => model.id).sort()).toEqual([
      'broken',
      'calc',
      'helper',
      'weather',
    ]);
    const raw = await openai.models.list().asResponse();
    expect(schemaErrors('ListModelsResponse', await raw.json())).toEqual([]);
    const one = await openai.models.retrieve('helper@1');
    expect(one).toMatchObject({ id: 'helper@1', object: 'model', owned_by: 'parley' });
  });

  it('answers a whole completion (CreateChatCompletionResponse), as a stored run with its TTFT', async () => {
    const { data, response } = await openai.chat.completions
      .create({
        model: 'helper',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'hello there' },
        ],
        user: 'end-user-7',
      })
      .withResponse();
    expect(data.object).toBe('chat.completion');
    expect(data.choices[0]).toMatchObject({
      index: 0,
      finish_reason: 'stop',
      message: { role: 'assistant', content: '(scripted) hello there', refusal: null },
    });
    expect(data.usage!.total_tokens).toBe(
      data.usage!.prompt_tokens + data.usage!.completion_tokens,
    );
    const runId = response.headers.get('x-parley-run-id')!;
    expect(data.id).toBe(`chatcmpl-${runId}`);

    const again = await openai.chat.completions
      .create({ model: 'helper', messages: [{ role: 'user', content: 'hello there' }] })
      .asResponse();
    const body = await again.json();
    expect(schemaErrors('CreateChatCompletionResponse', body)).toEqual([]);

    // A normal Parley run: listed with its TTFT, its conversation the end user's.
    const runs = (await (await owner('GET', `/v1/workspaces/${ws}/runs`)).json()) as {
      id: string;
      status: string;
      ttftMs: number | null;
      conversationId: string;
    }[];
    const run = runs.find((r) => r.id === runId)!;
    expect(run).toMatchObject({ status: 'succeeded', ttftMs: expect.any(Number) });
    const conversation = (await (
      await owner('GET', `/v1/workspaces/${ws}/conversations/${run.conversationId}`)
    ).json()) as { userId: string | null };
    expect(conversation.userId).toBe('end-user-7');
  });

  it('gives the model the messages before the last user message as its history', async () => {
    const ask = (messages: OpenAI.ChatCompletionMessageParam[]) =>
      openai.chat.completions.create({ model: 'helper', messages });
    const bare = await ask([{ role: 'user', content: 'and now?' }]);
    const long = 'an earlier turn of this conversation '.repeat(40);
    const withHistory = await ask([
      { role: 'user', content: long },
      { role: 'assistant', content: 'noted' },
      { role: 'user', content: 'and now?' },
    ]);
    expect(withHistory.choices[0]!.message.content).toBe('(scripted) and now?');
    // The scripted model counts what it was sent: the history is part of the prompt.
    expect(withHistory.usage!.prompt_tokens).toBeGreaterThan(bare.usage!.prompt_tokens + 300);
  });

  it('streams chunks (CreateChatCompletionStreamResponse) ending with usage and [DONE]', async () => {
    const stream = await openai.chat.completions.create({
      model: 'helper@1',
      messages: [{ role: 'user', content: 'stream this please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
      text += chunk.choices[0]?.delta.content ?? '';
    }
    expect(text).toBe('(scripted) stream this please');
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('stop');
    expect(chunks.at(-1)!.choices).toEqual([]);
    expect(chunks.at(-1)!.usage!.completion_tokens).toBeGreaterThan(0);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);

    const raw = await openai.chat.completions
      .create({
        model: 'helper',
        messages: [{ role: 'user', content: 'stream this please' }],
        stream: true,
        stream_options: { include_usage: true },
      })
      .asResponse();
    expect(raw.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const frames = dataFrames(await raw.text());
    expect(frames.at(-1)).toBe('[DONE]');
    for (const frame of frames.slice(0, -1))
      expect(schemaErrors('CreateChatCompletionStreamResponse', JSON.parse(frame))).toEqual([]);
  });

  it("returns a call of the client's tool as tool_calls, and continues with its result", async () => {
    const first = await openai.chat.completions.create({
      model: 'weather',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [weatherTool],
    });
    expect(schemaErrors('CreateChatCompletionResponse', first)).toEqual([]);
    const choice = first.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.tool_calls).toEqual([
      {
        id: 'call_weather',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
      },
    ]);

    // Streamed, the call arrives as tool_calls deltas the SDK's helpers put together.
    const streamed = openai.chat.completions.stream({
      model: 'weather',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [weatherTool],
    });
    const whole = await streamed.finalChatCompletion();
    expect(whole.choices[0]!.finish_reason).toBe('tool_calls');
    expect(whole.choices[0]!.message.tool_calls![0]).toMatchObject({
      id: 'call_weather',
      function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
    });

    const { data: second, response } = await openai.chat.completions
      .create({
        model: 'weather@draft',
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          choice.message,
          { role: 'tool', tool_call_id: 'call_weather', content: '{"tempC":14}' },
        ],
        tools: [weatherTool],
      })
      .withResponse();
    expect(second.choices[0]).toMatchObject({
      finish_reason: 'stop',
      message: { content: 'It is 14 °C in Paris.' },
    });
    // The run got the call and its result after the input: they are in its conversation.
    const runId = response.headers.get('x-parley-run-id')!;
    const run = (await (await owner('GET', `/v1/runs/${runId}`)).json()) as {
      conversationId: string;
    };
    const messages = (await (
      await owner('GET', `/v1/workspaces/${ws}/conversations/${run.conversationId}/messages`)
    ).json()) as { role: string }[];
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant']);
  });

  it("raises the SDK's typed errors in OpenAI's error body (ErrorResponse)", async () => {
    const unknown = await openai.chat.completions
      .create({ model: 'nobody', messages: [{ role: 'user', content: 'hi' }] })
      .catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect(unknown).toMatchObject({ status: 404, code: 'model_not_found', param: 'model' });

    const badKey = await sdk('prl_not-a-real-token')
      .models.list()
      .catch((error: unknown) => error);
    expect(badKey).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(badKey).toMatchObject({ status: 401, code: 'invalid_api_key' });

    // A tool of the client's named like one of the agent's own: the model could not tell them apart.
    const clash = await openai.chat.completions
      .create({
        model: 'calc',
        messages: [{ role: 'user', content: 'hi' }],
        tools: [{ type: 'function', function: { name: 'calculator', parameters: {} } }],
      })
      .catch((error: unknown) => error);
    expect(clash).toBeInstanceOf(OpenAI.BadRequestError);
    expect(clash).toMatchObject({ param: 'tools.0.function.name' });

    const invalid = await openai.chat.completions
      .create({ model: 'helper', messages: [{ role: 'assistant', content: 'no user here' }] })
      .catch((error: unknown) => error);
    expect(invalid).toBeInstanceOf(OpenAI.BadRequestError);
    expect(invalid).toMatchObject({ type: 'invalid_request_error', param: 'messages' });

    const res = await fetch(`${server.url}/openai/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer prl_nope', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(401);
    expect(schemaErrors('ErrorResponse', await res.json())).toEqual([]);
  });

  it('answers a failed run with a 500, and streamed with an error frame the SDK raises', async () => {
    const whole = await openai.chat.completions
      .create({ model: 'broken', messages: [{ role: 'user', content: 'hi' }] })
      .catch((error: unknown) => error);
    expect(whole).toBeInstanceOf(OpenAI.InternalServerError);
    expect(String((whole as Error).message)).toContain('the provider broke');

    const stream = await openai.chat.completions.create({
      model: 'broken',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    let text = '';
    const failed = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(OpenAI.APIError);
    expect(String((failed as Error).message)).toContain('the provider broke');
    expect(text).toBe('Partly ');
  });

  it('refuses a viewer token the run (403), and shows another workspace none of these agents', async () => {
    expect((await viewer.models.list()).data.length).toBe(4);
    const refused = await viewer.chat.completions
      .create({ model: 'helper', messages: [{ role: 'user', content: 'hi' }] })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(refused).toMatchObject({ status: 403, type: 'permission_error' });

    expect((await stranger.models.list()).data).toEqual([]);
    const hidden = await stranger.chat.completions
      .create({ model: 'helper', messages: [{ role: 'user', content: 'hi' }] })
      .catch((error: unknown) => error);
    expect(hidden).toBeInstanceOf(OpenAI.NotFoundError);
  });
});
