import type { Command } from '../command.ts';
import { CliError, line } from '../io.ts';
import { sigintHook } from '../signals.ts';
import { resolveTarget } from '../target.ts';
import { resolveAgent, streamTurn } from '../turn.ts';

export const runCommand: Command = {
  name: 'run',
  summary: 'Send one message to an agent and stream the answer.',
  usage: 'parley run "<message>" [--agent <name>] [--conversation <id>] [--approve] [--json]',
  examples: [
    'parley run "What is 6 * 7?"',
    'parley run "Summarise https://example.com" --agent researcher --approve',
    'parley run "hello" --json | jq .text',
  ],
  options: {
    agent: { type: 'string', short: 'a' },
    conversation: { type: 'string' },
    approve: { type: 'boolean' },
    version: { type: 'string' },
  },
  async run({ positionals, values }, io) {
    const input = positionals.join(' ').trim();
    if (!input) throw new CliError('What should the agent answer? parley run "<message>"', 2);
    const target = await resolveTarget(values, io);
    const agent = await resolveAgent(target, values.agent as string | undefined, io);
    const version: number | 'draft' | undefined =
      values.version === undefined
        ? undefined
        : values.version === 'draft'
          ? 'draft'
          : Number(values.version);
    if (typeof version === 'number' && !Number.isInteger(version))
      throw new CliError('--version takes a version number or "draft".', 2);
    const body = {
      input,
      ...(values.conversation ? { conversationId: values.conversation as string } : {}),
      ...(version !== undefined ? { version } : {}),
    };
    if (values.json) {
      const result = await target.client.runs.start(target.workspaceId, agent, body);
      line(io, JSON.stringify(result, null, 2));
      return result.outcome === 'run.finish' ? 0 : 1;
    }
    const { state } = await streamTurn(target, agent, body, io, {
      interactive: false,
      approve: Boolean(values.approve),
      onInterrupt: sigintHook,
    });
    return state.status === 'finished' ? 0 : 1;
  },
};
