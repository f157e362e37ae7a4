import type { Command } from '../command.ts';
import { CliError, type Io } from '../io.ts';
import { resolveTarget, type Target } from '../target.ts';

/*
 * `parley mcp serve --agent <name>`: the agent as an MCP server on stdin/stdout, for desktop
 * MCP hosts that launch their servers (Claude Desktop, Cursor). The same tool as the server's
 * HTTP endpoint (run_<agent>: input, conversationId → text, conversationId, runId); each call
 * is a run on the Parley server this command finds as every command does. stdout carries MCP
 * messages only.
 */

/** Runs the agent once through the server's API; a cancelled call cancels its run. */
async function runOnce(
  target: Target,
  agent: string,
  input: string,
  options: { conversationId?: string; signal: AbortSignal },
) {
  const stream = await target.client.runs.stream(target.workspaceId, agent, {
    input,
    ...(options.conversationId ? { conversationId: options.conversationId } : {}),
  });
  const cancel = () => void stream.cancel().catch(() => {});
  options.signal.addEventListener('abort', cancel, { once: true });
  try {
    const state = await stream.finished();
    const start = stream.events.find((event) => event.type === 'run.start');
    if (state.status === 'failed') throw new Error(state.error?.message ?? 'the run failed');
    if (state.status === 'aborted')
      throw new Error(`the run was ${state.abort?.reason ?? 'cancelled'}`);
    return {
      text: stream.text,
      conversationId:
        (start?.type === 'run.start' ? start.conversationId : undefined) ??
        options.conversationId ??
        '',
      runId: stream.runId,
    };
  } finally {
    options.signal.removeEventListener('abort', cancel);
  }
}

async function serve(io: Io, values: Record<string, unknown>) {
  const name = values.agent;
  if (typeof name !== 'string' || !name)
    throw new CliError('Which agent? parley mcp serve --agent <name>', 2);
  const target = await resolveTarget(values, io);
  // The agent must exist before the host is told there is a tool (a typo fails at once).
  const agent = await target.client.agents.get(target.workspaceId, name);
  const { createAgentMcpServer, serveOverStdio } = await import('@parley/mcp');
  const server = await createAgentMcpServer([
    {
      name: agent.agent.name,
      ...(agent.agent.description ? { description: agent.agent.description } : {}),
      run: (input, options) => runOnce(target, agent.agent.name, input, options),
    },
  ]);
  await serveOverStdio(server, { stdin: io.stdin, stdout: io.stdout });
}

export const mcpCommand: Command = {
  name: 'mcp',
  summary: 'Serve an agent as an MCP server over stdio (Claude Desktop, Cursor, other MCP hosts).',
  usage: 'parley mcp serve --agent <name> [--server <url> --token <prl_…>]',
  examples: [
    'parley mcp serve --agent support-bot',
    'PARLEY_SERVER=http://127.0.0.1:4321 PARLEY_TOKEN=prl_… parley mcp serve --agent support-bot',
  ],
  options: { agent: { type: 'string', short: 'a' } },
  async run({ positionals, values }, io) {
    if (positionals.length !== 1 || positionals[0] !== 'serve')
      throw new CliError(`Usage: ${this.usage}`, 2);
    await serve(io, values);
    return 0;
  },
};
