import { ParleyApiError, ParleyConnectionError } from '@parley/client';
import { CliError } from '../../io.ts';
import { withProgress } from '../../progress.ts';
import { shellQuote } from '../../shell-quote.ts';
import { resolveTarget, type Target } from '../../target.ts';
import { type Check, type Context, get, MAX_SKEW_SECONDS } from './shared.ts';

/*
 * `parley doctor`, one area: the server the CLI talks to, its token, and this machine's clock
 * against it.
 */

function tokenFix(target: Target): string {
  if (target.source === '--token') return 'Pass a valid token with --token (parley token create).';
  if (target.source === 'PARLEY_TOKEN')
    return `Replace or unset PARLEY_TOKEN (a new one: parley token create <name> --server ${shellQuote(target.server)}).`;
  if (target.source === 'parley login') return `parley login ${shellQuote(target.server)}`;
  return `Restart the local server (parley start): it writes a fresh token to ${target.source}.`;
}

/** The CLI's own server and token; `server` is set when that server answered. */
export async function checkTarget(
  ctx: Context,
  values: Record<string, unknown>,
): Promise<{ check: Check; server?: string }> {
  const check = (c: Check, server?: string) => (server ? { check: c, server } : { check: c });
  const name = 'server';
  let target: Target;
  try {
    target = await withProgress(ctx.io, 'Finding the server', resolveTarget(values, ctx.io));
  } catch (error) {
    if (error instanceof CliError && /^No Parley server/.test(error.message))
      return check({
        name,
        status: 'warn',
        detail: 'no server for the CLI to talk to yet',
        fix: 'Start one here (parley start), or log in to one (parley login <url>).',
      });
    if (error instanceof ParleyConnectionError)
      return check({
        name,
        status: 'warn',
        detail: `the server does not answer: ${error.message}`,
        fix: 'Start it (parley start here), or pass --server / parley login <url> for another one.',
      });
    if (error instanceof ParleyApiError)
      return check({
        name,
        status: 'fail',
        detail: `the server refused the token: ${error.message} (${error.code})`,
        fix: 'parley login <server-url>, or pass --token.',
      });
    if (error instanceof CliError)
      return check({
        name,
        status: 'fail',
        detail: error.message,
        fix: 'parley login <server-url>, or pass --server and --token.',
      });
    throw error;
  }
  try {
    const me = await withProgress(ctx.io, `Checking ${target.server}`, target.client.me());
    const who = me.user ? `as ${me.user.email}` : 'as a token';
    const expires = me.token ? Date.parse(me.token.expiresAt) - Date.now() : undefined;
    const soon = expires !== undefined && expires < 7 * 86_400_000;
    const detail = `${target.server} accepts the token from ${target.source} (${who}, workspace ${target.workspaceId})`;
    return check(
      soon
        ? {
            name,
            status: 'warn',
            detail: `${detail}, but it expires in ${Math.max(0, Math.floor(expires / 3_600_000))} h`,
            fix: tokenFix(target),
          }
        : { name, status: 'ok', detail },
      target.server,
    );
  } catch (error) {
    if (error instanceof ParleyApiError)
      return check(
        {
          name,
          status: 'fail',
          detail: `${target.server} rejected the token from ${target.source}: ${error.message} (${error.code})`,
          fix: tokenFix(target),
        },
        target.server,
      );
    if (error instanceof ParleyConnectionError)
      return check({
        name,
        status: 'warn',
        detail: `${target.server} does not answer (${error.message}); the token from ${target.source} is unchecked`,
        fix: /^http:\/\/(127\.|localhost|\[::1\])/.test(target.server)
          ? 'Start the server (parley start), then run parley doctor again.'
          : `Check that ${target.server} is up and reachable from here, or log in to another server (parley login <url>).`,
      });
    throw error;
  }
}

export async function checkClock(ctx: Context, server: string | undefined): Promise<Check> {
  const name = 'clock';
  if (!server)
    return { name, status: 'skip', detail: 'no Parley server reachable to compare the clock with' };
  const answer = await withProgress(ctx.io, 'Comparing clocks', get(`${server}/healthz`));
  if (!answer.ok || !answer.date)
    return {
      name,
      status: 'skip',
      detail: `${server} gave no Date header to compare the clock with`,
    };
  const skew = Math.round((Date.parse(answer.date) - answer.at) / 1000);
  // The Date header has whole seconds: a second of difference is rounding.
  if (Math.abs(skew) <= MAX_SKEW_SECONDS)
    return {
      name,
      status: 'ok',
      detail: `within ${Math.max(1, Math.abs(skew))} s of ${server}`,
    };
  return {
    name,
    status: 'warn',
    detail: `this machine's clock is ${Math.abs(skew)} s ${skew > 0 ? 'behind' : 'ahead of'} ${server}: tokens and sessions expire by the server's clock, and run times will look wrong`,
    fix: 'Synchronise the clocks (Linux: sudo timedatectl set-ntp true; macOS/Windows: set the time automatically) here and on the server.',
  };
}

// ---------------------------------------------------------------------------------------------
