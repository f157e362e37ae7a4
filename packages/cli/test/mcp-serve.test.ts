import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { scriptedAgent, startTestServer, type TestServer } from '@parley/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * `parley mcp serve` as a desktop MCP host runs it: the official MCP SDK's client starts the
 * real `parley` program over stdio (StdioClientTransport), against a real server on loopback
 * whose agent plays a script. The server and token come from the environment, as a host's
 * configuration gives them.
 */

const BIN = fileURLToPath(new URL('../bin/parley.mjs', import.meta.url));

describe('parley mcp serve (stdio)', () => {
  let server: TestServer;
  let cwd: string;
  const clients: Client[] = [];

  /** Launches `parley mcp serve --agent <agent>` and connects an MCP client to it. */
  async function connect(agent: string, protocolVersions?: string[], token = server.token) {
    const client = new Client(
      { name: 'parley-test-host', version: '1.0.0' },
      protocolVersions ? { supportedProtocolVersions: protocolVersions } : {},
    );
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN, 'mcp', 'serve', '--agent', agent],
      env: {
        PATH: process.env.PATH ?? '',
        HOME: cwd,
        PARLEY_SERVER: server.url,
        PARLEY_TOKEN: token,
        NO_COLOR: '1',
      },
      cwd,
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    clients.push(client);
    await client.connect(transport).catch((error: unknown) => {
      throw new Error(`${String(error)}; stderr: ${stderr}`);
    });
    return { client, stderr: () => stderr };
  }

  beforeAll(async () => {
    server = await startTestServer();
    cwd = await mkdtemp(join(tmpdir(), 'parley-mcp-serve-'));
    const res = await fetch(`${server.url}/v1/workspaces/${server.workspaceId}/agents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        definition: scriptedAgent('helper'),
        description: 'Answers questions about Parley.',
        deploy: true,
      }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close().catch(() => {})));
    await server?.close();
    if (cwd) await rm(cwd, { recursive: true, force: true });
  });

  it("lists the agent's tool and answers a call with the agent's reply, as a run", async () => {
    const [{ client }, old] = await Promise.all([
      connect('helper'),
      // A host that speaks an older revision gets it: the SDK negotiates.
      connect('helper', ['2024-11-05']),
    ]);
    expect(client.getNegotiatedProtocolVersion()).toBe(LATEST_PROTOCOL_VERSION);
    expect(old.client.getNegotiatedProtocolVersion()).toBe('2024-11-05');

    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(['run_helper']);
    expect(tools[0]!.description).toBe('Answers questions about Parley.');
    expect(Object.keys(tools[0]!.inputSchema.properties ?? {}).sort()).toEqual([
      'conversationId',
      'input',
    ]);

    const answer = await client.callTool({
      name: 'run_helper',
      arguments: { input: 'what is Parley?' },
    });
    expect(answer.isError).toBeFalsy();
    expect(answer.content).toEqual([{ type: 'text', text: '(scripted) what is Parley?' }]);
    const structured = answer.structuredContent as {
      text: string;
      conversationId: string;
      runId: string;
    };
    expect(structured.text).toBe('(scripted) what is Parley?');

    // The call was a run of the server's, in its conversation; a second call continues it.
    const next = await old.client.callTool({
      name: 'run_helper',
      arguments: { input: 'and then?', conversationId: structured.conversationId },
    });
    expect((next.structuredContent as { conversationId: string }).conversationId).toBe(
      structured.conversationId,
    );
    const runs = (await (
      await fetch(
        `${server.url}/v1/workspaces/${server.workspaceId}/runs?conversationId=${structured.conversationId}`,
        { headers: { authorization: `Bearer ${server.token}` } },
      )
    ).json()) as { id: string; status: string; ttftMs: number | null }[];
    expect(runs.map((run) => run.status)).toEqual(['succeeded', 'succeeded']);
    for (const run of runs) expect(run.ttftMs).toEqual(expect.any(Number));
    expect(runs.map((run) => run.id)).toContain(structured.runId);
  });

  it('answers a call with an error when the token may not run the agent (a viewer token)', async () => {
    const minted = await fetch(`${server.url}/v1/workspaces/${server.workspaceId}/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'viewer', scopes: ['agents:read', 'runs:read'] }),
    });
    expect(minted.status).toBe(201);
    const { token } = (await minted.json()) as { token: string };
    const { client } = await connect('helper', undefined, token);
    const refused = await client.callTool({ name: 'run_helper', arguments: { input: 'hi' } });
    expect(refused.isError).toBe(true);
    expect(JSON.stringify(refused.content)).toContain('runs:create');
  });

  it('refuses to start for an agent the workspace does not have (stderr, no MCP)', async () => {
    const failed = await connect('nobody').then(
      () => undefined,
      (error: unknown) => String(error),
    );
    expect(failed).toMatch(/not found/i);
  });
});
