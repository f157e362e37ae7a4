import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAgentYaml } from '@parley/agent-file';
import type { StartRun } from '@parley/client';
import type { StreamState } from '@parley/protocol';
import { CliError, type Io, line, painter } from './io.ts';
import { confirm } from './prompt.ts';
import { createRenderer } from './render.ts';
import type { Target } from './target.ts';

/**
 * Which agent a command means: the one named, else the one whose agent.yaml is in this
 * directory, else the workspace's only agent.
 */
export async function resolveAgent(
  target: Target,
  named: string | undefined,
  io: Io,
): Promise<string> {
  if (named) return named;
  const file = ['agent.yaml', 'agent.yml'].map((f) => join(io.cwd, f)).find(existsSync);
  if (file) {
    try {
      return parseAgentYaml(readFileSync(file, 'utf8')).name;
    } catch {
      // An invalid agent.yaml: fall through to the workspace's agents.
    }
  }
  const agents = await target.client.agents.list(target.workspaceId);
  if (agents.length === 1) return agents[0]!.name;
  if (agents.length === 0)
    throw new CliError('This workspace has no agent yet: parley create <dir>, then parley deploy.');
  throw new CliError(
    `Which agent? ${agents.map((a) => a.name).join(', ')} (pass --agent <name>).`,
    2,
  );
}

export interface TurnOptions {
  /** Ask the person on the terminal for approvals (chat), else use `approve`. */
  interactive: boolean;
  /** Non-interactive answer to approvals (default: deny). */
  approve?: boolean;
  /** Process-level interrupt hook (Ctrl-C cancels the run, not the program). */
  onInterrupt?: (handler: () => void) => () => void;
}

/** Streams one run to the terminal. Resolves with the final state and the conversation id. */
export async function streamTurn(
  target: Target,
  agent: string,
  body: StartRun,
  io: Io,
  options: TurnOptions,
): Promise<{ state: StreamState; conversationId?: string }> {
  const p = painter(io);
  const renderer = createRenderer(io);
  const started = performance.now();
  const stream = await target.client.runs.stream(target.workspaceId, agent, body, {
    onReconnect: ({ attempt }) => io.stderr.write(p.dim(`\n(reconnecting, attempt ${attempt}…)\n`)),
  });
  let cancelling = false;
  const release = options.onInterrupt?.(() => {
    if (cancelling) return;
    cancelling = true;
    io.stderr.write(p.dim('\n(stopping the run…)\n'));
    void stream.cancel().catch(() => {});
  });
  let conversationId: string | undefined;
  try {
    for await (const event of stream) {
      if (event.type === 'run.start') conversationId = event.conversationId;
      renderer.event(event);
      if (event.type === 'tool.approval_requested') {
        const approved = options.interactive
          ? await confirm(io, 'Allow it?')
          : Boolean(options.approve);
        if (!options.interactive)
          line(
            io,
            p.dim(
              approved
                ? '(approved by --approve)'
                : '(denied: pass --approve to allow tools that ask)',
            ),
          );
        await stream.decide(event.toolCallId, approved ? 'approved' : 'denied');
      }
    }
  } finally {
    release?.();
  }
  line(io, renderer.summary(stream.state, performance.now() - started));
  return { state: stream.state, ...(conversationId ? { conversationId } : {}) };
}
