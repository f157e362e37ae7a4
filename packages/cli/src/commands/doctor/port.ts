import { createServer } from 'node:net';
import { withProgress } from '../../progress.ts';
import { type Check, type Context, get, isParleyHealth } from './shared.ts';

/*
 * `parley doctor`, one area: the server's port: free, or held by a Parley server.
 */

function tryListen(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolveListen) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolveListen(error.code ?? 'error'));
    server.listen({ host, port, exclusive: true }, () => {
      server.close(() => resolveListen(undefined));
    });
  });
}

function httpBase(host: string, port: number): string {
  const h = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${h.includes(':') ? `[${h}]` : h}:${port}`;
}

export async function checkPort(ctx: Context): Promise<Check> {
  const { host, port } = ctx;
  const where = `${host}:${port}`;
  const name = 'port';
  if (port === 0)
    return { name, status: 'ok', detail: 'PARLEY_PORT=0: the server takes a free port at start' };
  const code = await tryListen(host, port);
  if (code === undefined) return { name, status: 'ok', detail: `${where} is free` };
  if (code === 'EADDRINUSE') {
    const base = httpBase(host, port);
    const health = await withProgress(ctx.io, `Asking ${base}/healthz`, get(`${base}/healthz`));
    if (isParleyHealth(health)) {
      ctx.localServer = base;
      return { name, status: 'ok', detail: `${where}: a Parley server is running there` };
    }
    const answer = health.ok ? `HTTP ${health.status} to GET /healthz` : health.error;
    return {
      name,
      status: 'fail',
      detail: `${where} is in use by another program, not a Parley server (${answer})`,
      fix: `Stop that program (find it: lsof -nP -iTCP:${port} -sTCP:LISTEN, or ss -ltnp 'sport = :${port}'), or use another port: PARLEY_PORT=${port === 65_535 ? 4100 : port + 1} parley start`,
    };
  }
  if (code === 'EACCES')
    return {
      name,
      status: 'fail',
      detail: `Not allowed to listen on ${where} (ports below 1024 need privileges)`,
      fix: 'Use a port above 1023: PARLEY_PORT=4000 (put a reverse proxy in front for 80/443).',
    };
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return {
      name,
      status: 'fail',
      detail: `${host} is not an address of this machine (${code})`,
      fix: 'Set PARLEY_HOST to an address of this machine, e.g. PARLEY_HOST=127.0.0.1',
    };
  return {
    name,
    status: 'fail',
    detail: `Cannot listen on ${where}: ${code}`,
    fix: 'Set PARLEY_HOST and PARLEY_PORT to an address and port this user may listen on.',
  };
}
