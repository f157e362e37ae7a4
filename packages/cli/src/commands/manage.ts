import type { Command } from '../command.ts';
import { CliError, type Io, line, painter } from '../io.ts';
import { askSecret, confirm } from '../prompt.ts';
import { resolveTarget } from '../target.ts';

/** Prints rows as aligned columns (or JSON with --json). */
function table(io: Io, json: boolean, rows: Record<string, unknown>[], columns: string[]) {
  if (json) return line(io, JSON.stringify(rows, null, 2));
  if (rows.length === 0) return line(io, painter(io).dim('(none)'));
  const cell = (v: unknown) => {
    const text = v === null || v === undefined ? '-' : Array.isArray(v) ? v.join(',') : String(v);
    return text.length > 48 ? `${text.slice(0, 47)}…` : text;
  };
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  line(io, painter(io).bold(columns.map((c, i) => c.padEnd(widths[i]!)).join('  ')));
  for (const r of rows)
    line(
      io,
      columns
        .map((c, i) => cell(r[c]).padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    );
}

const sub = (positionals: string[], allowed: string[], usage: string) => {
  const [action, ...rest] = positionals;
  if (!action || !allowed.includes(action)) throw new CliError(`Usage: ${usage}`, 2);
  return { action, rest };
};

export const tokenCommand: Command = {
  name: 'token',
  summary: 'Create, list and revoke API tokens of the workspace.',
  usage:
    'parley token create <name> [--scopes agents:read,runs:create|admin] [--days 90] | list | revoke <id>',
  examples: [
    'parley token create ci --scopes runs:create,agents:read --days 30',
    'parley token list',
    'parley token revoke 6f1c…',
  ],
  options: { scopes: { type: 'string' }, days: { type: 'string' } },
  async run({ positionals, values }, io) {
    const { action, rest } = sub(positionals, ['create', 'list', 'revoke'], this.usage);
    const t = await resolveTarget(values, io);
    if (action === 'list') {
      const tokens = await t.client.tokens.list(t.workspaceId);
      table(io, Boolean(values.json), tokens, [
        'id',
        'name',
        'prefix',
        'scopes',
        'expiresAt',
        'lastUsedAt',
        'revokedAt',
      ]);
      return 0;
    }
    if (action === 'revoke') {
      if (!rest[0])
        throw new CliError('Which token? parley token revoke <id> (ids: parley token list)', 2);
      await t.client.tokens.revoke(t.workspaceId, rest[0]);
      line(io, `Revoked ${rest[0]}.`);
      return 0;
    }
    if (!rest[0]) throw new CliError('Name the token: parley token create <name>', 2);
    const days = values.days === undefined ? undefined : Number(values.days);
    if (days !== undefined && !(Number.isInteger(days) && days >= 1 && days <= 366))
      throw new CliError('--days is a whole number from 1 to 366.', 2);
    const scopes = ((values.scopes as string | undefined) ?? 'admin')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const created = await t.client.tokens.create(t.workspaceId, {
      name: rest[0],
      scopes,
      ...(days ? { expiresInDays: days } : {}),
    });
    if (values.json) line(io, JSON.stringify(created, null, 2));
    else {
      line(io, created.token);
      io.stderr.write(
        painter(io).dim(
          `(shown once: ${created.info.scopes.join(', ')}; expires ${created.info.expiresAt})\n`,
        ),
      );
    }
    return 0;
  },
};

export const secretsCommand: Command = {
  name: 'secrets',
  summary: 'Set, list and remove workspace secrets (write-only: values are never shown).',
  usage: 'parley secrets set <NAME> (value from a hidden prompt or stdin) | list | rm <NAME>',
  examples: [
    'parley secrets set OPENAI_API_KEY',
    'printf %s "$KEY" | parley secrets set ANTHROPIC_API_KEY',
    'parley secrets list',
    'parley secrets rm OLD_KEY',
  ],
  options: { yes: { type: 'boolean', short: 'y' } },
  async run({ positionals, values }, io) {
    const { action, rest } = sub(positionals, ['set', 'list', 'rm'], this.usage);
    const t = await resolveTarget(values, io);
    if (action === 'list') {
      table(io, Boolean(values.json), await t.client.secrets.list(t.workspaceId), [
        'name',
        'last4',
        'updatedAt',
        'lastRevealedAt',
      ]);
      return 0;
    }
    const name = rest[0];
    if (!name) throw new CliError(`Name the secret: parley secrets ${action} <NAME>`, 2);
    if (rest.length > 1)
      throw new CliError(
        'Never put a secret value on the command line (it lands in shell history): the value is read from a prompt or stdin.',
        2,
      );
    if (action === 'rm') {
      if (
        !values.yes &&
        io.stdin.isTTY &&
        !(await confirm(io, `Delete ${name}? Agents that use it will stop working.`))
      )
        return 1;
      await t.client.secrets.delete(t.workspaceId, name);
      line(io, `Deleted ${name}.`);
      return 0;
    }
    const value = await askSecret(io, `Value for ${name}:`);
    const info = await t.client.secrets.put(t.workspaceId, name, value);
    line(io, `Stored ${info.name}${info.last4 ? ` (…${info.last4})` : ''}, encrypted.`);
    return 0;
  },
};

export const agentsCommand: Command = {
  name: 'agents',
  summary: 'List agents, show one, list its versions.',
  usage: 'parley agents list | show <agent> | versions <agent>',
  examples: [
    'parley agents list',
    'parley agents show support-bot --json',
    'parley agents versions support-bot',
  ],
  async run({ positionals, values }, io) {
    const { action, rest } = sub(positionals, ['list', 'show', 'versions'], this.usage);
    const t = await resolveTarget(values, io);
    if (action === 'list') {
      const agents = await t.client.agents.list(t.workspaceId);
      table(io, Boolean(values.json), agents, [
        'name',
        'currentVersion',
        'description',
        'updatedAt',
      ]);
      return 0;
    }
    if (!rest[0]) throw new CliError(`Which agent? parley agents ${action} <agent>`, 2);
    if (action === 'versions') {
      const versions = await t.client.agents.versions(t.workspaceId, rest[0]);
      table(io, Boolean(values.json), versions, ['version', 'createdAt', 'note', 'definitionHash']);
      return 0;
    }
    const { agent, version } = await t.client.agents.get(t.workspaceId, rest[0]);
    if (values.json) line(io, JSON.stringify({ agent, version }, null, 2));
    else {
      const def = (version?.definition ?? agent.draft ?? {}) as {
        model?: { provider?: string; model?: string };
        plugins?: { name: string }[];
      };
      line(
        io,
        `${painter(io).bold(agent.name)} ${agent.currentVersion ? `v${agent.currentVersion}` : '(not deployed)'}`,
      );
      if (agent.description) line(io, agent.description);
      line(io, `model:   ${def.model?.provider}/${def.model?.model}`);
      line(io, `plugins: ${(def.plugins ?? []).map((p) => p.name).join(', ') || 'none'}`);
      line(io, `id:      ${agent.id}`);
    }
    return 0;
  },
};
