import { ParleyApiError } from '@parley/client';
import semver from 'semver';
import type { Command } from '../command.ts';
import { CliError, line, painter } from '../io.ts';
import { withProgress } from '../progress.ts';
import { loadProjectAgent, projectEnv } from '../project.ts';
import { confirm } from '../prompt.ts';
import { shellQuote } from '../shell-quote.ts';
import { resolveTarget } from '../target.ts';

const last4 = (value: string) => (value.length >= 12 ? value.slice(-4) : null);

export const deployCommand: Command = {
  name: 'deploy',
  summary:
    'Deploy this project’s agent to a server as a new version (unchanged agents stay as they are).',
  usage: 'parley deploy [--server <url>] [--file agent.yaml] [--yes] [--note "<text>"]',
  examples: [
    'parley deploy',
    'parley deploy --server https://parley.example.com',
    'parley deploy --yes --note "friendlier greeting"   # in CI: sends the secrets without asking',
  ],
  options: {
    file: { type: 'string', short: 'f' },
    yes: { type: 'boolean', short: 'y' },
    note: { type: 'string' },
  },
  async run({ values }, io) {
    const p = painter(io);
    const { path, agent } = await loadProjectAgent(io, values.file as string | undefined);
    const target = await resolveTarget(values, io);
    const { client, workspaceId, server } = target;

    // 1. Every plugin the agent uses is on the server, at a version the agent accepts.
    const available = await withProgress(io, 'Checking the server', client.plugins());
    const problems: string[] = [];
    for (const ref of agent.plugins) {
      const found = available.find((p) => p.name === ref.name);
      if (!found)
        problems.push(
          `${ref.name} is not installed there (it has ${available.map((a) => a.name).join(', ') || 'none'})`,
        );
      else if (!semver.satisfies(found.version, ref.version))
        problems.push(`${ref.name}@${ref.version} is wanted, the server has ${found.version}`);
    }
    if (problems.length)
      throw new CliError(`Cannot deploy ${agent.name} to ${server}:\n  ${problems.join('\n  ')}`);

    // 2. Only the secrets the agent declares: its models' keys and its plugins' secrets.
    const { modelSecrets } = await import('@parley/server');
    const wanted = new Set(modelSecrets(agent));
    for (const ref of agent.plugins)
      for (const name of available.find((a) => a.name === ref.name)?.permissions.secrets ?? [])
        wanted.add(name);
    const local = projectEnv(io);
    const remote = new Map((await client.secrets.list(workspaceId)).map((s) => [s.name, s]));
    const missing: string[] = [];
    const toSend: string[] = [];
    for (const name of wanted) {
      const value = local[name] ?? io.env[name];
      const there = remote.get(name);
      if (value === undefined) {
        if (!there) missing.push(name);
        continue;
      }
      if (!there || (there.last4 !== null && there.last4 !== last4(value))) toSend.push(name);
    }
    if (toSend.length > 0) {
      const list = toSend
        .map((n) => `${n} (…${last4(local[n] ?? io.env[n] ?? '') ?? '****'})`)
        .join(', ');
      const ok =
        values.yes ||
        (await confirm(
          io,
          `Send ${list} to ${server}? They are stored encrypted and never shown again.`,
        ));
      if (!ok) throw new CliError('Deploy stopped: no secrets were sent, nothing was deployed.');
      for (const name of toSend)
        await client.secrets.put(workspaceId, name, (local[name] ?? io.env[name])!);
    }

    // 3. The agent: created with version 1, or a new version if its definition changed.
    const definition = agent as unknown as Record<string, unknown>;
    const note = values.note as string | undefined;
    let version: number;
    let created: boolean;
    try {
      await client.agents.get(workspaceId, agent.name);
      const result = await withProgress(
        io,
        'Deploying',
        client.agents.deploy(workspaceId, agent.name, { definition, ...(note ? { note } : {}) }),
      );
      version = result.version.version;
      created = result.created;
    } catch (error) {
      if (!(error instanceof ParleyApiError && error.code === 'resource.not_found')) throw error;
      const result = await client.agents.create(workspaceId, {
        definition,
        deploy: true,
        ...(note ? { note } : {}),
      });
      version = result.version!.version;
      created = true;
    }
    const url = `${server}/v1/workspaces/${workspaceId}/agents/${encodeURIComponent(agent.name)}`;
    if (values.json) {
      line(
        io,
        JSON.stringify(
          {
            agent: agent.name,
            version,
            created,
            url,
            secretsSent: toSend,
            secretsMissing: missing,
          },
          null,
          2,
        ),
      );
    } else {
      line(
        io,
        created
          ? `${p.green('✓')} Deployed ${agent.name} v${version} from ${path}`
          : `${p.green('✓')} ${agent.name} is up to date (v${version})`,
      );
      if (toSend.length) line(io, `  secrets sent: ${toSend.join(', ')}`);
      line(io, `  ${url}`);
      line(
        io,
        p.dim(
          `  try it: parley run "hello" --server ${shellQuote(server)} --agent ${shellQuote(agent.name)}`,
        ),
      );
      for (const name of missing)
        line(
          io,
          p.yellow(
            `  ! the agent needs ${name}: set it in .env and deploy again, or parley secrets set ${shellQuote(name)} --server ${shellQuote(server)}`,
          ),
        );
    }
    return 0;
  },
};
