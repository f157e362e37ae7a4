import { createParleyClient, ParleyApiError } from '@parley/client';
import type { Command } from '../command.ts';
import { CliError, line } from '../io.ts';
import { ask, askSecret } from '../prompt.ts';
import { normalizeServer, readUserConfig, writeUserConfig } from '../user-config.ts';

export const loginCommand: Command = {
  name: 'login',
  summary: 'Sign in to a Parley server and keep a token for it (in your config, mode 0600).',
  usage: 'parley login <server-url> [--token prl_…] [--email you@example.com]',
  examples: [
    'parley login https://parley.example.com',
    'parley login http://127.0.0.1:4000 --token prl_…',
    'echo "$PASSWORD" | parley login https://parley.example.com --email ci@example.com',
  ],
  options: { email: { type: 'string' }, name: { type: 'string' } },
  async run({ positionals, values }, io) {
    const given = positionals[0] ?? (values.server as string | undefined);
    if (!given) throw new CliError('Which server? parley login <server-url>', 2);
    let server: string;
    try {
      server = normalizeServer(given);
    } catch {
      throw new CliError(`"${given}" is not a server URL (expected http(s)://host:port).`, 2);
    }
    let token = values.token as string | undefined;
    if (!token) {
      const email =
        (values.email as string | undefined) ?? (await ask(io, 'Email:', { flag: '--email' }));
      const password = await askSecret(io, 'Password:');
      const response = await fetch(`${server}/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password }),
      }).catch((error: Error) => {
        throw new CliError(`Cannot reach ${server}: ${error.message}`);
      });
      if (!response.ok) {
        const problem = (await response.json().catch(() => ({}))) as {
          detail?: string;
          code?: string;
        };
        throw new CliError(
          `Sign-in refused: ${problem.detail ?? response.status} (${problem.code ?? 'http'})`,
        );
      }
      const session = (await response.json()) as { workspaces: { id: string; name: string }[] };
      const cookie = response.headers.get('set-cookie')?.split(';')[0] ?? '';
      const workspace =
        session.workspaces.length === 1
          ? session.workspaces[0]!
          : (session.workspaces.find((w) => w.id === values.workspace) ?? session.workspaces[0]);
      if (!workspace)
        throw new CliError('This account has no workspace yet: create one in the dashboard.');
      const created = await fetch(`${server}/v1/workspaces/${workspace.id}/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie, origin: server },
        body: JSON.stringify({
          name: (values.name as string | undefined) ?? `parley CLI (${io.env.USER ?? 'me'})`,
          scopes: ['admin'],
          expiresInDays: 90,
        }),
      });
      if (!created.ok) throw new CliError(`Could not create a token: HTTP ${created.status}.`);
      token = ((await created.json()) as { token: string }).token;
      // The session was only needed to mint the token.
      await fetch(`${server}/v1/auth/logout`, {
        method: 'POST',
        headers: { cookie, origin: server },
      }).catch(() => {});
    }
    const client = createParleyClient({ baseUrl: server, token });
    let me: Awaited<ReturnType<typeof client.me>>;
    try {
      me = await client.me();
    } catch (error) {
      if (error instanceof ParleyApiError)
        throw new CliError(`The server refused the token: ${error.message}`);
      throw new CliError(`Cannot reach ${server}: ${(error as Error).message}`);
    }
    const workspaceId = me.token?.workspaceId ?? me.workspaces[0]?.id;
    const config = await readUserConfig(io);
    config.servers[server] = {
      token,
      ...(workspaceId ? { workspaceId } : {}),
      ...(me.user ? { user: me.user.email } : {}),
    };
    config.current = server;
    const path = await writeUserConfig(io, config);
    line(
      io,
      `Logged in to ${server}${me.user ? ` as ${me.user.email}` : ''} (token saved in ${path}).`,
    );
    return 0;
  },
};
