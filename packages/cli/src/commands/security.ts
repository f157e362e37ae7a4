import { createParleyClient, type ParleyClient } from '@parley/client';
import type { Command } from '../command.ts';
import { CliError, type Io, line, painter } from '../io.ts';
import { ask, askSecret, confirm } from '../prompt.ts';
import { resolveTarget, type Target } from '../target.ts';
import {
  auditEventsSince,
  auditLine,
  parseSince,
  plural,
  printReport,
  userIdOf,
} from './security-report.ts';

/*
 * `parley security`: respond to an incident from the terminal. The report reads the
 * workspace's audit log and signals; revoke-tokens and end-sessions act on the workspace;
 * rotate-master-key and the plugin switches act on the whole server and need its operator,
 * signed in as a person (a local owner session on this machine, else email and password);
 * confirm-operator makes a person listed in PARLEY_OPERATOR_EMAILS that operator, with the
 * one-time code from the server's log (or its PARLEY_OPERATOR_CODE).
 */

export { parseSince } from './security-report.ts';

const ACTIONS = [
  'report',
  'audit-log',
  'revoke-tokens',
  'end-sessions',
  'rotate-master-key',
  'disable-plugin',
  'enable-plugin',
  'confirm-operator',
];

/**
 * A session of the server's operator for one instance-wide action: the local owner's on this
 * machine (single-user), else a sign-in with email and password (PARLEY_OPERATOR_EMAILS).
 * Ended when the action is done.
 */
async function asOperator<T>(
  t: Target,
  io: Io,
  values: Record<string, unknown>,
  action: (client: ParleyClient) => Promise<T>,
): Promise<T> {
  const origin = t.server;
  const post = (path: string, init: { cookie?: string; body?: unknown } = {}) =>
    fetch(`${t.server}${path}`, {
      method: 'POST',
      headers: {
        origin,
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(init.cookie ? { cookie: init.cookie } : {}),
      },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    }).catch((error: Error) => {
      throw new CliError(`Cannot reach ${t.server}: ${error.message}`);
    });
  let response = await post('/v1/auth/local');
  if (!response.ok) {
    await response.body?.cancel();
    const known = (await t.client.me().catch(() => undefined))?.user?.email;
    const email =
      (values.email as string | undefined) ??
      (await ask(io, 'Operator email:', {
        flag: '--email',
        ...(known ? { default: known } : {}),
      }));
    const password = await askSecret(io, `Password for ${email}:`);
    response = await post('/v1/auth/login', { body: { email, password } });
    if (!response.ok) {
      const problem = (await response.json().catch(() => ({}))) as {
        detail?: string;
        code?: string;
      };
      throw new CliError(
        `Sign-in refused: ${problem.detail ?? response.status} (${problem.code ?? 'http'})`,
      );
    }
  }
  await response.body?.cancel();
  const cookie = response.headers.get('set-cookie')?.split(';')[0] ?? '';
  const client = createParleyClient({ baseUrl: t.server, headers: { cookie, origin } });
  try {
    return await action(client);
  } finally {
    await post('/v1/auth/logout', { cookie }).then(
      (r) => r.body?.cancel(),
      () => {},
    );
  }
}

async function confirmed(io: Io, values: Record<string, unknown>, question: string) {
  return Boolean(values.yes) || (await confirm(io, question));
}

export const securityCommand: Command = {
  name: 'security',
  summary:
    'Respond to an incident: the security report, revoke tokens, end sessions, rotate the master key, disable plugins; confirm an instance operator.',
  usage:
    'parley security report [--since 24h|7d|<ISO time>] | audit-log [--since 24h] [--action token.create] [--json] | revoke-tokens [--user <email|id>] [--yes] | end-sessions --user <email|id> [--yes] | rotate-master-key | disable-plugin <name> [--yes] | enable-plugin <name> | confirm-operator [--email <you>] [--code <code>]',
  examples: [
    'parley security report --since 7d',
    'parley security audit-log --since 30d --json > audit.jsonl',
    'parley security audit-log --since 7d --action secret.decrypt',
    'parley security revoke-tokens --user mallory@example.com',
    'parley security revoke-tokens --yes --json',
    'parley security end-sessions --user mallory@example.com --yes',
    'parley security rotate-master-key',
    'parley security disable-plugin @parley/plugin-http',
    'parley security confirm-operator --email you@example.com',
  ],
  options: {
    since: { type: 'string' },
    action: { type: 'string' },
    user: { type: 'string' },
    email: { type: 'string' },
    code: { type: 'string' },
    yes: { type: 'boolean', short: 'y' },
  },
  async run({ positionals, values }, io) {
    const [action, ...rest] = positionals;
    if (!action || !ACTIONS.includes(action)) throw new CliError(`Usage: ${this.usage}`, 2);
    const json = Boolean(values.json);
    const since = values.since === undefined ? undefined : parseSince(String(values.since));
    const user = values.user as string | undefined;
    if (action === 'end-sessions' && !user)
      throw new CliError('Whose sessions? parley security end-sessions --user <email|id>', 2);
    const plugin = rest[0];
    if ((action === 'disable-plugin' || action === 'enable-plugin') && !plugin)
      throw new CliError(
        `Which plugin? parley security ${action} <name> (names: GET /v1/plugins)`,
        2,
      );
    const t = await resolveTarget(values, io);
    const p = painter(io);

    if (action === 'report') {
      const report = await t.client.security.report(t.workspaceId, since ? { since } : {});
      if (json) line(io, JSON.stringify(report, null, 2));
      else printReport(io, t.workspaceId, report);
      return 0;
    }

    if (action === 'audit-log') {
      let count = 0;
      const events = auditEventsSince(t, since ?? parseSince('24h'), {
        ...(typeof values.action === 'string' ? { action: values.action } : {}),
      });
      // --json: JSON Lines, one event per line, for a file or a log pipeline.
      for await (const event of events) {
        line(io, json ? JSON.stringify(event) : auditLine(event));
        count++;
      }
      if (!json && count === 0) line(io, p.dim('(no audit events in that window)'));
      return 0;
    }

    if (action === 'revoke-tokens') {
      const target = user ? await userIdOf(t, user) : undefined;
      const mine = (await t.client.me()).token?.id;
      const question = target
        ? `Revoke every active API token ${target.label} created in workspace ${t.workspaceId}? What uses them stops working at once.`
        : `Revoke EVERY active API token of workspace ${t.workspaceId}, the one this command uses too? What uses them stops working at once.`;
      if (!(await confirmed(io, values, question))) return 1;
      const result = await t.client.security.revokeTokens(
        t.workspaceId,
        target ? { userId: target.id } : { all: true },
      );
      if (json) line(io, JSON.stringify(result, null, 2));
      else {
        line(io, `Revoked ${plural(result.revoked, 'token')}.`);
        if (result.ownersTokensKept > 0)
          line(
            io,
            p.yellow(
              `Kept ${plural(result.ownersTokensKept, 'token')} that owners created: only an owner revokes those.`,
            ),
          );
        if (mine && result.tokenIds.includes(mine))
          io.stderr.write(
            p.yellow(
              'The token this command used is revoked too: parley login again (a local server makes a new one when it restarts).\n',
            ),
          );
      }
      return 0;
    }

    if (action === 'end-sessions') {
      const target = await userIdOf(t, user!);
      if (
        !(await confirmed(
          io,
          values,
          `End every session of ${target.label} (on every device)? They sign in again; their API tokens stay.`,
        ))
      )
        return 1;
      const result = await t.client.security.endSessions(t.workspaceId, target.id);
      if (json) line(io, JSON.stringify(result, null, 2));
      else line(io, `Ended ${plural(result.ended, 'session')} of ${target.label}.`);
      return 0;
    }

    if (action === 'confirm-operator') {
      // Asked for rather than taken from the command line by default: shell history keeps flags.
      const code =
        typeof values.code === 'string'
          ? values.code
          : await askSecret(io, 'Operator code (from the server log, or PARLEY_OPERATOR_CODE):');
      const result = await asOperator(t, io, values, (c) => c.auth.confirmOperator({ code }));
      if (json) line(io, JSON.stringify(result, null, 2));
      else
        line(
          io,
          result.alreadyConfirmed
            ? `You were an operator of ${t.server} already; the code was not used.`
            : `You are now an operator of ${t.server}; the code is spent.`,
        );
      return 0;
    }

    if (action === 'rotate-master-key') {
      const result = await asOperator(t, io, values, (c) => c.security.rotateMasterKey());
      if (json) line(io, JSON.stringify(result, null, 2));
      else {
        line(
          io,
          `Master key v${result.version} now wraps every data key (re-wrapped ${plural(result.rewrappedDataKeys, 'data key')} of ${plural(result.workspaces, 'workspace')}).`,
        );
        line(io, result.next);
      }
      return 0;
    }

    if (action === 'disable-plugin') {
      if (
        !(await confirmed(
          io,
          values,
          `Disable ${plugin} on ${t.server}? Runs of agents that use it are refused until it is enabled.`,
        ))
      )
        return 1;
    }
    const result = await asOperator(t, io, values, (c) =>
      action === 'disable-plugin'
        ? c.security.disablePlugin(plugin!)
        : c.security.enablePlugin(plugin!),
    );
    if (json) line(io, JSON.stringify(result, null, 2));
    else {
      line(io, `${result.name} is ${result.disabled ? 'disabled' : 'enabled'} on ${t.server}.`);
      line(
        io,
        p.dim(
          `Disabled now: ${result.disabledPlugins.join(', ') || 'none'} (until the server restarts: PARLEY_DISABLED_PLUGINS keeps it).`,
        ),
      );
    }
    return 0;
  },
};
