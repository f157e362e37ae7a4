import { createInterface } from 'node:readline/promises';
import type { Command } from '../command.ts';
import { CliError, line, painter } from '../io.ts';
import { sigintHook } from '../signals.ts';
import { resolveTarget } from '../target.ts';
import { resolveAgent, streamTurn } from '../turn.ts';

export const chatCommand: Command = {
  name: 'chat',
  summary: 'Talk with an agent in the terminal (streaming; Ctrl-C stops the answer, Ctrl-D quits).',
  usage: 'parley chat [agent] [--conversation <id>]',
  examples: [
    'parley chat',
    'parley chat support-bot',
    'parley chat --server https://parley.example.com',
  ],
  options: { conversation: { type: 'string' }, version: { type: 'string' } },
  async run({ positionals, values }, io) {
    if (!io.stdin.isTTY)
      throw new CliError('parley chat needs a terminal; use parley run "<message>" in scripts.', 2);
    const target = await resolveTarget(values, io);
    const agent = await resolveAgent(target, positionals[0], io);
    const p = painter(io);
    line(
      io,
      p.dim(`Chatting with ${agent} on ${target.server}. Ctrl-C stops an answer, Ctrl-D quits.`),
    );
    let conversationId = values.conversation as string | undefined;
    const version =
      values.version === 'draft'
        ? ('draft' as const)
        : values.version
          ? Number(values.version)
          : undefined;
    for (;;) {
      const rl = createInterface({ input: io.stdin, output: io.stdout });
      rl.on('SIGINT', () => rl.close()); // Ctrl-C at the prompt quits, like Ctrl-D
      let input: string;
      try {
        input = (await rl.question(p.bold('you › '))).trim();
      } catch {
        break; // Ctrl-D or Ctrl-C at the prompt
      } finally {
        rl.close();
      }
      if (!input) continue;
      if (input === '/exit' || input === '/quit') break;
      io.stdout.write(`${p.bold(`${agent} ›`)} `);
      try {
        const result = await streamTurn(
          target,
          agent,
          {
            input,
            ...(conversationId ? { conversationId } : {}),
            ...(version !== undefined ? { version } : {}),
          },
          io,
          { interactive: true, onInterrupt: sigintHook },
        );
        conversationId ??= result.conversationId;
      } catch (error) {
        if (error instanceof Error) line(io, p.red(`✗ ${error.message}`));
      }
    }
    return 0;
  },
};
