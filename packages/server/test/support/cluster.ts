import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@parley/store/testing';
import { freePort } from './harness.ts';

/*
 * A cluster for tests: N Parley server processes (started the way `npm start` starts one) on
 * one fresh PostgreSQL database, each with its own PARLEY_INSTANCE_ID and port, behind a
 * private nginx rendered from the shipped deploy/nginx/parley.conf. Single-user instances
 * share one data directory (the first makes the owner and its token, the others find it);
 * multi-user ones get one each. Every wait is on a condition (/readyz, a process exit), and
 * close() ends every process it started.
 */

const ROOT = new URL('../../../../', import.meta.url).pathname;
const NODE = join(ROOT, 'node_modules/.bin/node');
export const NGINX = process.env.PARLEY_NGINX ?? '/usr/sbin/nginx';
const TEMPLATE = join(ROOT, 'deploy/nginx/parley.conf');
/** The harness's master key. */
const MASTER_KEY = Buffer.alloc(32, 7).toString('base64');
/** nginx adds it to every answer in the tests: which instance answered (host:port). */
export const UPSTREAM_HEADER = 'x-parley-upstream';

/** `npm start`'s Node flags and entry point, from the root package.json. */
const START_ARGS = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }
).scripts.start
  .split(' ')
  .slice(1)
  .map((arg) => (arg.endsWith('.js') || arg.endsWith('.ts') ? join(ROOT, arg) : arg));

export interface Readiness {
  ok: boolean;
  database: string;
  bus: { kind: string; up: boolean; via: string; detail?: string };
}

export interface ClusterOptions {
  /** How many instances (default 3). */
  instances?: number;
  /** Multi-user instances (each its own data directory) instead of one single-user owner. */
  multiUser?: boolean;
  /** PARLEY_REDIS_URL for every instance. */
  redisUrl?: string;
  /** PARLEY_RUN_LEASE_SECONDS (default: the server's). */
  leaseSeconds?: number;
  /** More settings for every instance. */
  env?: Record<string, string>;
  /** Reuse this database (else a fresh one, dropped by close()). */
  database?: TestDatabase;
}

interface Instance {
  id: string;
  port: number;
  dataDir: string;
  child?: ChildProcess;
  exited?: Promise<void>;
  output: string;
}

export interface Cluster {
  /** nginx, in front of every instance. */
  url: string;
  /** Each instance directly. */
  urls: string[];
  /** Each instance's PARLEY_INSTANCE_ID. */
  instanceIds: string[];
  database: TestDatabase;
  /** Single-user: the owner's token and workspace (empty strings when multi-user). */
  token: string;
  workspaceId: string;
  /** Which instance answered a response that came through nginx (-1 if it cannot tell). */
  instanceOf(response: Response): number;
  /** Signals an instance and waits until its process has exited. */
  kill(i: number, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a stopped instance again (same port, id and data directory); waits for /readyz. */
  restart(i: number): Promise<void>;
  alive(i: number): boolean;
  /** GET /readyz of an instance (throws when it does not answer 200). */
  readiness(i: number): Promise<Readiness>;
  /** Polls an instance's /readyz until `test` holds (default deadline 30 s). */
  waitForReadiness(
    i: number,
    test: (r: Readiness) => boolean,
    timeoutMs?: number,
  ): Promise<Readiness>;
  /** An instance's stdout and stderr so far (all its starts). */
  output(i: number): string;
  /** Ends nginx and every instance, drops the database (unless given), removes directories. */
  close(): Promise<void>;
}

/** Polls `probe` until it returns a value (not undefined), or fails after `timeoutMs`. */
export async function until<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 30_000,
  everyMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

async function readyz(url: string): Promise<Readiness | undefined> {
  const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) });
  if (response.status !== 200) {
    await response.body?.cancel();
    return undefined;
  }
  return (await response.json()) as Readiness;
}

/**
 * The shipped nginx configuration with this cluster's instances as its upstream, listening on
 * `port` on loopback; every answer says which instance gave it (UPSTREAM_HEADER). Nothing
 * else changes: the tests run the configuration operators get.
 */
export async function renderNginxConfig(ports: number[], port: number): Promise<string> {
  const template = await readFile(TEMPLATE, 'utf8');
  const servers = /^(\s*)server \S+:\d+( [^;\n]*)?;\n/gm;
  const first = servers.exec(template);
  if (!first) throw new Error(`${TEMPLATE} has no upstream server line`);
  const [indent = '', params = ''] = [first[1], first[2]];
  const upstream = ports.map((p) => `${indent}server 127.0.0.1:${p}${params};\n`).join('');
  let rendered = template.replace(servers, '');
  rendered = rendered.replace(/^(\s*)keepalive /m, `${upstream}$1keepalive `);
  if (!/^\s*listen 8080;$/m.test(rendered)) throw new Error(`${TEMPLATE} has no "listen 8080;"`);
  rendered = rendered.replace(/^(\s*)listen 8080;$/m, `$1listen 127.0.0.1:${port};`);
  rendered = rendered.replace(
    /^(\s*)proxy_pass http:\/\/parley;$/m,
    `$1proxy_pass http://parley;\n$1add_header ${UPSTREAM_HEADER} $upstream_addr always;`,
  );
  return rendered;
}

/** A private nginx (master and one worker) with `conf` in the http context. */
async function startNginx(conf: string, url: string) {
  const dir = await mkdtemp(join(tmpdir(), 'parley-nginx-'));
  await mkdir(join(dir, 'temp'));
  await writeFile(join(dir, 'parley.conf'), conf);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((kind) => `${kind}_temp_path ${join(dir, 'temp', kind)};`)
    .join(' ');
  await writeFile(
    join(dir, 'nginx.conf'),
    [
      'daemon off;',
      'worker_processes 1;',
      `pid ${join(dir, 'nginx.pid')};`,
      'error_log stderr warn;',
      'events { worker_connections 4096; }',
      `http { access_log off; ${temp} include ${join(dir, 'parley.conf')}; }`,
      '',
    ].join('\n'),
  );
  const child = spawn(NGINX, ['-c', join(dir, 'nginx.conf'), '-p', dir, '-e', 'stderr'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await until(async () => {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${output}`);
    // Any answer from nginx will do (the instances may still be starting).
    const response = await fetch(`${url}/healthz`);
    await response.body?.cancel();
    return true;
  }, 'nginx to listen').catch((error) => {
    throw new Error(`${error.message}\n${output}`);
  });
  return {
    output: () => output,
    async stop() {
      // SIGTERM: a fast shutdown of the master and its worker.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Starts the instances, then nginx in front of them; resolves once every /readyz answers. */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const count = options.instances ?? 3;
  // A migrated copy (the store's test templates): the instances' start-up migrate() finds it
  // up to date, as every instance after the first does in a deployment.
  const database = options.database ?? (await createTestDatabase('cluster', { migrated: true }));
  const shared = options.multiUser ? undefined : await mkdtemp(join(tmpdir(), 'parley-cluster-'));
  const instances: Instance[] = [];
  for (let i = 0; i < count; i++) {
    instances.push({
      id: `node-${i}`,
      port: await freePort(),
      dataDir: shared ?? (await mkdtemp(join(tmpdir(), `parley-cluster-${i}-`))),
      output: '',
    });
  }
  const urls = instances.map((instance) => `http://127.0.0.1:${instance.port}`);

  const env = (instance: Instance): Record<string, string> => ({
    PATH: process.env.PATH ?? '',
    PARLEY_PORT: String(instance.port),
    PARLEY_DATA_DIR: instance.dataDir,
    PARLEY_DASHBOARD_DIR: join(instance.dataDir, 'no-dashboard'),
    PARLEY_LOG_LEVEL: 'warn',
    PARLEY_MASTER_KEY: MASTER_KEY,
    PARLEY_DATABASE_URL: database.runtimeUrl,
    PARLEY_MIGRATION_DATABASE_URL: database.adminUrl,
    PARLEY_INSTANCE_ID: instance.id,
    // nginx is the one trusted proxy hop, as docs/scaling.md sets it up.
    PARLEY_BEHIND_TLS_PROXY: '1',
    PARLEY_SHUTDOWN_GRACE_SECONDS: '2',
    ...(options.multiUser ? { PARLEY_MULTI_USER: '1' } : {}),
    ...(options.redisUrl ? { PARLEY_REDIS_URL: options.redisUrl } : {}),
    ...(options.leaseSeconds ? { PARLEY_RUN_LEASE_SECONDS: String(options.leaseSeconds) } : {}),
    ...options.env,
  });

  const start = async (i: number) => {
    const instance = instances[i]!;
    const child = spawn(NODE, START_ARGS, {
      env: env(instance),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    instance.child = child;
    instance.exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const take = (chunk: Buffer) => {
      instance.output += chunk.toString();
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    await until(
      async () => {
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`instance ${i} exited before it was ready:\n${instance.output}`);
        return readyz(urls[i]!);
      },
      `instance ${i} to be ready`,
      90_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${instance.output}`);
    });
  };
  const alive = (i: number) => {
    const child = instances[i]!.child;
    return Boolean(child && child.exitCode === null && child.signalCode === null);
  };
  const kill = async (i: number, signal: NodeJS.Signals = 'SIGKILL') => {
    const instance = instances[i]!;
    if (alive(i)) instance.child!.kill(signal);
    await instance.exited;
  };

  let nginx: Awaited<ReturnType<typeof startNginx>> | undefined;
  const close = async () => {
    await nginx?.stop();
    await Promise.all(instances.map((_, i) => kill(i, 'SIGKILL')));
    if (!options.database) await database.drop();
    const dirs = new Set(instances.map((instance) => instance.dataDir));
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  };

  try {
    // Single-user: the first instance makes the owner and writes the credentials the others
    // read from the shared data directory; then the rest start together.
    await start(0);
    await Promise.all(instances.slice(1).map((_, k) => start(k + 1)));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    nginx = await startNginx(
      await renderNginxConfig(
        instances.map((instance) => instance.port),
        port,
      ),
      url,
    );
    const credentials = shared
      ? (JSON.parse(await readFile(join(shared, 'credentials'), 'utf8')) as {
          token: string;
          workspaceId: string;
        })
      : { token: '', workspaceId: '' };
    const byPort = new Map(instances.map((instance, i) => [String(instance.port), i]));
    return {
      url,
      urls,
      instanceIds: instances.map((instance) => instance.id),
      database,
      token: credentials.token,
      workspaceId: credentials.workspaceId,
      instanceOf(response) {
        // After a retry nginx lists every instance it tried; the last one answered.
        const last = response.headers.get(UPSTREAM_HEADER)?.split(',').at(-1)?.trim();
        return byPort.get(last?.split(':').at(-1) ?? '') ?? -1;
      },
      kill,
      async restart(i) {
        await kill(i, 'SIGKILL');
        await start(i);
      },
      alive,
      async readiness(i) {
        const ready = await readyz(urls[i]!);
        if (!ready) throw new Error(`instance ${i} is not ready`);
        return ready;
      },
      waitForReadiness: (i, test, timeoutMs = 30_000) =>
        until(
          async () => {
            const ready = await readyz(urls[i]!);
            return ready && test(ready) ? ready : undefined;
          },
          `instance ${i}'s /readyz to match`,
          timeoutMs,
        ),
      output: (i) => instances[i]!.output,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** A private redis-server on a free port (Debian's), which a test may stop and start again. */
export async function privateRedis() {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    const started = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = started;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      started.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('Ready to accept connections')) resolve();
      });
      started.once('exit', (code) => reject(new Error(`redis-server exited ${code}: ${out}`)));
    });
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, start, stop };
}
