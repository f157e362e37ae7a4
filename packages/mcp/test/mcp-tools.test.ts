import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  type AgentDefinitionInput,
  createApprovalGate,
  createInMemoryRunStore,
  createPluginHost,
  defineAgent,
  type McpServerRef,
  runAgent,
} from '@parley/core';
import { checkMcpServers, connectMcpServers, type McpConnections, withTools } from '@parley/mcp';
import { assertConformance, type ParleyEvent } from '@parley/protocol';
import { createScriptedModel, type ScriptTurn } from '@parley/providers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const notesServer = fileURLToPath(new URL('./fixtures/notes-server.ts', import.meta.url));

const stdioNotes: AgentDefinitionInput['mcp'] = [
  {
    name: 'notes',
    transport: { stdio: { command: process.execPath, args: [notesServer, 'stdio'] } },
    allowTools: ['add_note', 'count_notes', 'erase_all'],
    requireApproval: ['erase_all'],
  },
];

let httpServer: ChildProcess;
let httpUrl: string;
beforeAll(async () => {
  httpServer = spawn(process.execPath, [notesServer, 'http'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NOTES_TOKEN: 'notes-token-1234' },
  });
  const lines = createInterface({ input: httpServer.stdout! });
  httpUrl = await new Promise<string>((resolve) =>
    lines.on('line', (line) => {
      if (line.startsWith('listening ')) resolve(line.slice('listening '.length));
    }),
  );
});
afterAll(() => {
  httpServer.kill();
});

const open: McpConnections[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

async function connect(servers: readonly McpServerRef[]) {
  const connections = await connectMcpServers(servers, {
    secret: async (name) => (name === 'NOTES_TOKEN' ? 'notes-token-1234' : undefined),
    callTimeoutMs: 10_000,
  });
  open.push(connections);
  return connections;
}

/** Runs an agent with the given MCP servers against a scripted model; answers approvals with `decision`. */
async function run(
  mcp: AgentDefinitionInput['mcp'],
  script: ScriptTurn[],
  decision: 'approved' | 'denied' = 'denied',
) {
  const agent = defineAgent({
    name: 'note-taker',
    instructions: 'Take notes.',
    model: { provider: 'scripted', model: 'm' },
    ...(mcp ? { mcp } : {}),
  });
  const connections = await connect(agent.mcp);
  const approvals = createApprovalGate();
  const model = createScriptedModel({ model: 'm', script, maxRetries: 0 });
  const events: ParleyEvent[] = [];
  for await (const event of runAgent(
    {
      agent,
      agentId: 'agt_1',
      workspaceId: 'ws_1',
      conversationId: 'conv_1',
      input: 'note this',
    },
    {
      models: () => model,
      store: createInMemoryRunStore(),
      plugins: withTools(createPluginHost(), connections.tools),
      approvals,
    },
  )) {
    events.push(event);
    if (event.type === 'tool.approval_requested')
      setTimeout(() => approvals.decide(event.approvalId, decision), 0);
  }
  assertConformance(events);
  return { events, connections };
}

const results = (events: ParleyEvent[]) =>
  events.flatMap((e) => (e.type === 'tool.result' ? [e] : []));

describe('MCP servers as an agent’s tools', () => {
  it('round-trips tool calls to a stdio MCP server process, in the Parley stream', async () => {
    const { events, connections } = await run(stdioNotes, [
      [
        { type: 'tool_call', name: 'notes_add_note', args: { text: 'buy milk' }, id: 'c1' },
        { type: 'finish', reason: 'tool-calls' },
      ],
      [
        { type: 'tool_call', name: 'notes_count_notes', args: {}, id: 'c2' },
        { type: 'finish', reason: 'tool-calls' },
      ],
      [{ type: 'text', text: 'Noted.' }, { type: 'finish' }],
    ]);
    expect(connections.tools.map((t) => t.tool.name).sort()).toEqual([
      'notes_add_note',
      'notes_count_notes',
      'notes_erase_all',
    ]);
    expect(events.filter((e) => e.type === 'tool_call.complete').map((e) => e.name)).toEqual([
      'notes_add_note',
      'notes_count_notes',
    ]);
    expect(results(events)).toMatchObject([
      { toolCallId: 'c1', ok: true, output: 'saved note 1: buy milk' },
      { toolCallId: 'c2', ok: true, output: { count: 1 } },
    ]);
    expect(events.at(-1)?.type).toBe('run.finish');
  });

  it('marks a tool the server annotates read-only or idempotent as safe to repeat after a failover', async () => {
    const agent = defineAgent({
      name: 'note-taker',
      instructions: 'Take notes.',
      model: { provider: 'scripted', model: 'm' },
      mcp: stdioNotes,
    });
    const connections = await connect(agent.mcp);
    const byName = new Map(connections.tools.map((bound) => [bound.tool.name, bound.tool]));
    expect(byName.get('notes_count_notes')?.idempotent).toBe(true);
    expect(byName.get('notes_add_note')?.idempotent).toBe(false);
  });

  it('enforces the allow-list and asks for approval before listed tools', async () => {
    const { events } = await run(stdioNotes, [
      [
        { type: 'tool_call', name: 'notes_read_env', args: {}, id: 'c1' },
        { type: 'tool_call', name: 'notes_erase_all', args: {}, id: 'c2' },
        { type: 'finish', reason: 'tool-calls' },
      ],
      [{ type: 'text', text: 'Fine.' }, { type: 'finish' }],
    ]);
    const invalid = events.find((e) => e.type === 'tool_call.invalid');
    expect(invalid).toMatchObject({ name: 'notes_read_env' });
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'tool.approval_requested', toolCallId: 'c2' }),
    );
    expect(results(events)).toMatchObject([
      { toolCallId: 'c2', ok: false, error: 'a person denied this call' },
    ]);
    expect(events.at(-1)?.type).toBe('run.finish');
  });

  it('calls tools of a Streamable HTTP MCP server, approval approved', async () => {
    const { events } = await run(
      [
        {
          name: 'remote',
          transport: { url: httpUrl, bearerTokenSecret: 'NOTES_TOKEN' },
          allowTools: ['add_note', 'erase_all'],
          requireApproval: true,
        },
      ],
      [
        [
          { type: 'tool_call', name: 'remote_add_note', args: { text: 'over http' }, id: 'h1' },
          { type: 'finish', reason: 'tool-calls' },
        ],
        [{ type: 'text', text: 'Saved.' }, { type: 'finish' }],
      ],
      'approved',
    );
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'tool.approval_requested', toolCallId: 'h1' }),
    );
    expect(results(events)).toMatchObject([
      { toolCallId: 'h1', ok: true, output: expect.stringMatching(/^saved note \d+: over http$/) },
    ]);
  });

  it('offers a tool whose argument schema zod cannot read as an object, validated by the server', async () => {
    const { events } = await run(
      [
        {
          name: 'notes',
          transport: { stdio: { command: process.execPath, args: [notesServer, 'stdio'] } },
          allowTools: ['remind'],
        },
      ],
      [
        [
          { type: 'tool_call', name: 'notes_remind', args: { when: 'tomorrow' }, id: 'r1' },
          { type: 'finish', reason: 'tool-calls' },
        ],
        [{ type: 'text', text: 'Set.' }, { type: 'finish' }],
      ],
    );
    expect(results(events)).toMatchObject([
      { toolCallId: 'r1', ok: true, output: 'reminder set: {"when":"tomorrow"}' },
    ]);
  });

  it('names the server and the tools when allowTools lists what the server does not offer', async () => {
    const agent = defineAgent({
      name: 'x',
      instructions: 'x',
      model: { provider: 'scripted', model: 'm' },
      mcp: [
        {
          name: 'notes',
          transport: { url: httpUrl, bearerTokenSecret: 'NOTES_TOKEN' },
          allowTools: ['add_note', 'launch'],
        },
      ],
    });
    await expect(connect(agent.mcp)).rejects.toMatchObject({
      code: 'agent.invalid_config',
      message: expect.stringContaining('notes does not offer launch'),
    });
    // Without its token the server answers 401: the error names the server.
    const anonymous = defineAgent({
      name: 'x',
      instructions: 'x',
      model: { provider: 'scripted', model: 'm' },
      mcp: [{ name: 'notes', transport: { url: httpUrl } }],
    });
    await expect(connect(anonymous.mcp)).rejects.toMatchObject({
      code: 'agent.invalid_config',
      message: expect.stringContaining('MCP server notes could not be reached'),
    });
  });

  it('on a multi-user server, starts only the stdio commands an operator listed', () => {
    const agent = defineAgent({
      name: 'x',
      instructions: 'x',
      model: { provider: 'scripted', model: 'm' },
      mcp: stdioNotes,
    });
    const line = `${process.execPath} ${notesServer} stdio`;
    expect(() =>
      checkMcpServers(agent.mcp, { stdioCommands: [], httpHosts: 'public', hosts: [] }),
    ).toThrow(/PARLEY_MCP_COMMANDS/);
    expect(() =>
      checkMcpServers(agent.mcp, { stdioCommands: [line], httpHosts: 'public', hosts: [] }),
    ).not.toThrow();
    expect(() =>
      checkMcpServers(agent.mcp, { stdioCommands: 'any', httpHosts: 'any', hosts: [] }),
    ).not.toThrow();
  });
});
