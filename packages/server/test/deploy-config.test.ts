import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, DATABASE_URL } from '@parley/store/testing';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../src/config.ts';
import { freePort, scriptedAgent } from './support/harness.ts';

/*
 * The deployment files at the repository root: compose.yaml against the Compose
 * Specification schema and against what the schema cannot say (start order on health,
 * loopback ports, named volumes, no secret in the file), the Dockerfile's facts, and the
 * same configuration without containers: deploy/postgres-init.sql on a fresh database, then
 * the real server process with compose.yaml's environment, a sign-up, an agent run and a
 * runtime role that row-level security applies to. No Docker engine is needed.
 */

const root = new URL('../../../', import.meta.url);
const path = (relative: string) => new URL(relative, root).pathname;
const read = (relative: string) => readFileSync(path(relative), 'utf8');

type Vars = Record<string, string | undefined>;
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

// ---------------------------------------------------------------------------------------
// Compose: interpolation as Compose does it ($$, ${VAR}, ${VAR:-default}, ${VAR:?error} …)

function interpolate(text: string, vars: Vars): string {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match, braced: string | undefined, op: string | undefined, arg = '', bare?: string) => {
      if (match === '$$') return '$';
      const name = (braced ?? bare)!;
      const value = vars[name];
      const missing = op?.startsWith(':') ? !value : value === undefined;
      if (op?.endsWith('?') && missing) throw new Error(`required variable ${name}: ${arg}`);
      if (op?.endsWith('-') && missing) return arg;
      return value ?? '';
    },
  );
}

function interpolateDeep(value: Json, vars: Vars): Json {
  if (typeof value === 'string') return interpolate(value, vars);
  if (Array.isArray(value)) return value.map((v) => interpolateDeep(v, vars));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateDeep(v, vars)]));
  }
  return value;
}

interface Service {
  image?: string;
  build?: unknown;
  init?: boolean;
  environment?: Record<string, string>;
  volumes?: (string | { type: string; source?: string; target: string; read_only?: boolean })[];
  ports?: (string | { host_ip?: string; target: number; published?: string | number })[];
  healthcheck?: { test: string | string[] };
  depends_on?: string[] | Record<string, { condition?: string }>;
  stop_grace_period?: string;
  profiles?: string[];
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const composeText = read('compose.yaml');
const composeRaw = parse(composeText) as Json;
const compose = composeRaw as unknown as ComposeFile;
function stringsOf(value: Json): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringsOf);
  return [];
}
/** The values in the file (not its comments), where compose interpolates. */
const composeValues = stringsOf(composeRaw).join('\n');
const interpolatedVariables = [
  ...new Set([...composeValues.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!)),
];
/** The variables compose refuses to start without (`${VAR:?…}`). */
const requiredVariables = [
  ...new Set([...composeValues.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*):\?/g)].map((m) => m[1]!)),
];
/** Distinct values for every required variable, shaped as the env example asks. */
function exampleVars(): Record<string, string> {
  return Object.fromEntries(
    requiredVariables.map((name) => [
      name,
      name === 'PARLEY_MASTER_KEY'
        ? randomBytes(32).toString('base64')
        : randomBytes(24).toString('hex'),
    ]),
  );
}

function hostPath(source: string) {
  return /^(\.|\/|~)/.test(source);
}

function volumesOf(service: Service) {
  return (service.volumes ?? []).map((v) => {
    if (typeof v !== 'string') return { ...v, readOnly: v.read_only === true };
    const [source, target, mode = ''] = v.split(':');
    return {
      type: hostPath(source!) ? 'bind' : 'volume',
      source: source!,
      target: target!,
      readOnly: mode.split(',').includes('ro'),
    };
  });
}

function portsOf(service: Service) {
  return (service.ports ?? []).map((p) => {
    if (typeof p !== 'string') return { hostIp: p.host_ip, target: p.target };
    const parts = p.split(':');
    return parts.length === 3
      ? { hostIp: parts[0], target: Number(parts[2]) }
      : { hostIp: undefined, target: Number(parts.at(-1)) };
  });
}

const seconds = (duration: string) => {
  const m = /^(\d+)(s|m)$/.exec(duration);
  if (!m) throw new Error(`unexpected duration ${duration}`);
  return Number(m[1]) * (m[2] === 'm' ? 60 : 1);
};

// ---------------------------------------------------------------------------------------
// Dockerfile: instructions, stages, ENV; .dockerignore as Docker matches it

interface Instruction {
  keyword: string;
  args: string;
}

function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let buffer = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (/^\s*#/.test(line) || (buffer === '' && line.trim() === '')) continue;
    if (line.endsWith('\\')) {
      buffer += `${line.slice(0, -1)} `;
      continue;
    }
    buffer += line;
    const m = /^\s*(\w+)\s+([\s\S]*)$/.exec(buffer);
    if (!m) throw new Error(`cannot parse Dockerfile line: ${buffer}`);
    out.push({ keyword: m[1]!.toUpperCase(), args: m[2]!.trim() });
    buffer = '';
  }
  return out;
}

interface Stage {
  name: string;
  from: string;
  /** Its own instructions and those of the stages it is built on. */
  instructions: Instruction[];
}

function stagesOf(instructions: Instruction[]): Stage[] {
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'ARG' && stages.length === 0) {
      const [name, value = ''] = ins.args.split('=');
      args.set(name!, value);
    } else if (ins.keyword === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args)!;
      const from = m[1]!.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => args.get(a ?? b) ?? '');
      const parent = stages.find((s) => s.name === from);
      stages.push({
        name: m[2] ?? String(stages.length),
        from: parent ? parent.from : from,
        instructions: parent ? [...parent.instructions] : [],
      });
    } else {
      stages.at(-1)?.instructions.push(ins);
    }
  }
  return stages;
}

function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const ins of stage.instructions.filter((i) => i.keyword === 'ENV')) {
    for (const m of ins.args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) {
      env[m[1]!] = m[2]!.replace(/^"|"$/g, '');
    }
  }
  return env;
}

function last(stage: Stage, keyword: string) {
  return stage.instructions.filter((i) => i.keyword === keyword).at(-1);
}

function globToRegex(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      i++;
      if (glob[i + 1] === '/') {
        i++;
        re += '(?:.*/)?';
      } else re += '.*';
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Docker's rule: the last pattern matching the path or one of its parents decides. */
function dockerignore(text: string): (file: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = (negate ? l.slice(1) : l).trim().replace(/^\/+|\/+$/g, '');
      return { negate, regex: globToRegex(pattern) };
    });
  return (file) => {
    const parts = file.split('/');
    let excluded = false;
    for (const rule of rules) {
      for (let i = 1; i <= parts.length; i++) {
        if (rule.regex.test(parts.slice(0, i).join('/'))) {
          excluded = !rule.negate;
          break;
        }
      }
    }
    return excluded;
  };
}

function filesUnder(relative: string): string[] {
  return (readdirSync(path(relative), { recursive: true }) as string[])
    .map((f) => `${relative}/${f}`)
    .filter((f) => !f.includes('/node_modules/') && statSync(path(f)).isFile());
}

const workspaces = ['packages', 'plugins'].flatMap((dir) =>
  readdirSync(path(dir))
    .map((name) => `${dir}/${name}`)
    .filter((w) => {
      try {
        return statSync(path(`${w}/package.json`)).isFile();
      } catch {
        return false;
      }
    }),
);

const dockerfile = parseDockerfile(read('Dockerfile'));
const stages = stagesOf(dockerfile);
const runtime = stages.at(-1)!;
const imageEnv = envOf(runtime);

// ---------------------------------------------------------------------------------------
// Processes

const NODE = path('node_modules/.bin/node');

function run(
  command: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new Error(`${command} is not installed (psql and pg_isready: postgresql-client)`)
          : error,
      ),
    );
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const baseEnv = () => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir() });

/** psql as the PostgreSQL image's entrypoint runs init files: ON_ERROR_STOP, no psqlrc. */
function psql(url: string, args: string[], env: Record<string, string> = {}) {
  return run('psql', ['-v', 'ON_ERROR_STOP=1', '--no-psqlrc', '--dbname', url, ...args], {
    ...baseEnv(),
    ...env,
  });
}

// =======================================================================================

describe('compose.yaml against the Compose Specification schema', () => {
  const schema = JSON.parse(read('deploy/compose-spec.schema.json')) as { $schema: string };
  // The schema has union types and keywords without "type" beside them; unknown keywords
  // still fail compilation (strictSchema).
  const ajv = new Ajv2020({ allErrors: true, strictTypes: false, allowUnionTypes: true });
  const validate = ajv.compile(schema);

  it('is the vendored Compose Specification (JSON Schema 2020-12), which rejects a bad file', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    const broken = structuredClone(composeRaw) as unknown as ComposeFile;
    (broken.services.parley as Record<string, unknown>).depends_on = {
      postgres: { condition: 'service_healty' },
    };
    (broken.services.postgres as Record<string, unknown>).volume = ['x:/y'];
    expect(validate(broken)).toBe(false);
    expect(validate.errors?.map((e) => e.instancePath)).toEqual(
      expect.arrayContaining([
        '/services/postgres',
        '/services/parley/depends_on/postgres/condition',
      ]),
    );
  });

  it('validates as written and after interpolation', () => {
    expect(validate(composeRaw), JSON.stringify(validate.errors, null, 2)).toBe(true);
    const interpolated = interpolateDeep(composeRaw, exampleVars());
    expect(validate(interpolated), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });
});

describe('compose.yaml: what the schema cannot check', () => {
  const { postgres, parley } = compose.services;

  it('has exactly the two services, PostgreSQL on a pinned major before 18 with pgvector', () => {
    // The cluster profile's services (docs/scaling.md) start only with that profile.
    const always = Object.entries(compose.services).filter(([, s]) => !s.profiles?.length);
    expect(always.map(([name]) => name).sort()).toEqual(['parley', 'postgres']);
    const cluster = Object.entries(compose.services).filter(([, s]) =>
      s.profiles?.includes('cluster'),
    );
    expect(cluster.map(([name]) => name).sort()).toEqual(['nginx', 'parley-replica', 'redis']);
    const tag = /^pgvector\/pgvector:pg(\d+)$/.exec(postgres!.image ?? '');
    expect(tag, postgres!.image).not.toBeNull();
    // 18+ images keep PGDATA under /var/lib/postgresql/<major>/docker: the mount below is for <18.
    expect(Number(tag![1])).toBeGreaterThanOrEqual(15);
    expect(Number(tag![1])).toBeLessThan(18);
    expect(parley!.build).toBe('.');
  });

  it('checks PostgreSQL health over TCP (pg_isready -h 127.0.0.1) as its superuser, on its database', () => {
    const test = postgres!.healthcheck!.test;
    expect(Array.isArray(test) && test[0]).toBe('CMD-SHELL');
    const command = (test as string[])[1]!;
    expect(command).toMatch(/^pg_isready\s/);
    expect(command).toMatch(/\s-h\s+127\.0\.0\.1(\s|$)/);
    expect(command).toContain(`-U ${postgres!.environment!.POSTGRES_USER}`);
    expect(command).toContain(`-d ${postgres!.environment!.POSTGRES_DB}`);
  });

  it('starts Parley only once PostgreSQL is healthy', () => {
    expect(parley!.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(postgres!.depends_on).toBeUndefined();
  });

  it('keeps data in named volumes; the only host file is the init SQL, read-only', () => {
    const declared = Object.keys(compose.volumes ?? {});
    const byTarget = (s: Service) => new Map(volumesOf(s).map((v) => [v.target, v]));
    const pgData = byTarget(postgres!).get('/var/lib/postgresql/data');
    expect(pgData).toMatchObject({ type: 'volume', readOnly: false });
    expect(declared).toContain(pgData!.source);
    const parleyData = byTarget(parley!).get(imageEnv.PARLEY_DATA_DIR!);
    expect(parleyData).toMatchObject({ type: 'volume', readOnly: false });
    expect(declared).toContain(parleyData!.source);
    expect(pgData!.source).not.toBe(parleyData!.source);
    const binds = Object.values(compose.services).flatMap((s) =>
      volumesOf(s).filter((v) => v.type === 'bind'),
    );
    expect(binds).toEqual([
      {
        type: 'bind',
        source: './deploy/postgres-init.sql',
        target: '/docker-entrypoint-initdb.d/10-parley.sql',
        readOnly: true,
      },
      {
        type: 'bind',
        source: './deploy/nginx/parley.conf',
        target: '/etc/nginx/conf.d/default.conf',
        readOnly: true,
      },
    ]);
    expect(statSync(path('deploy/postgres-init.sql')).isFile()).toBe(true);
  });

  it('publishes ports on 127.0.0.1 only: Parley on 4000, PostgreSQL not at all', () => {
    expect(portsOf(parley!)).toEqual([{ hostIp: '127.0.0.1', target: 4000 }]);
    expect(portsOf(postgres!)).toEqual([]);
  });

  it('holds no secret: every one is a required variable, and nothing looks like a key', () => {
    expect(requiredVariables.sort()).toEqual(
      ['DB_API_PASSWORD', 'DB_MIGRATOR_PASSWORD', 'PARLEY_MASTER_KEY', 'POSTGRES_PASSWORD'].sort(),
    );
    let passwords = 0;
    for (const service of Object.values(compose.services)) {
      for (const [name, value] of Object.entries(service.environment ?? {})) {
        if (/PASSWORD|SECRET|KEY|TOKEN/.test(name)) {
          // A whole-value interpolation: required, or optional with an empty default.
          expect(value, name).toMatch(/^\$\{[A-Z_]+(:\?[^}]+|:-)\}$/);
        }
        for (const m of String(value).matchAll(/:\/\/[^:/@\s]+:(\$\{[^}]*\}|[^@\s]+)@/g)) {
          expect(m[1], `${name}: password in a URL`).toMatch(/^\$\{[A-Z_]+:\?[^}]+\}$/);
          passwords++;
        }
        for (const m of String(value).matchAll(/password=(\$\{[^}]*\}|\S+)/g)) {
          expect(m[1], `${name}: password setting`).toMatch(/^\$\{[A-Z_]+:\?[^}]+\}$/);
          passwords++;
        }
      }
    }
    // Two database URLs per Parley service (the cluster profile's replicas too) and the two
    // settings the init SQL reads.
    expect(passwords).toBe(6);
    // Keys and tokens: base64 of 32 bytes, long hex, Parley API tokens.
    expect(composeText).not.toMatch(/[A-Za-z0-9+/]{42,}={0,2}|\b[0-9a-f]{32,}\b|prl_[A-Za-z0-9]/);
  });

  it('refuses to start without any one of the secrets', () => {
    for (const name of requiredVariables) {
      const vars: Vars = exampleVars();
      delete vars[name];
      expect(() => interpolateDeep(composeRaw, vars), name).toThrow(name);
      expect(() => interpolateDeep(composeRaw, { ...vars, [name]: '' }), name).toThrow(name);
    }
  });

  it('uses no PARLEY_* variable the server does not know (it refuses unknown ones)', () => {
    for (const name of interpolatedVariables.filter((n) => n.startsWith('PARLEY_'))) {
      expect(CONFIG_VARIABLES, name).toContain(name);
    }
    for (const name of Object.keys(parley!.environment ?? {})) {
      expect(CONFIG_VARIABLES, name).toContain(name);
    }
  });

  it('gives PostgreSQL the same role passwords Parley connects with, for the roles the init SQL makes', () => {
    const vars = exampleVars();
    const env = interpolateDeep(
      { pg: postgres!.environment!, app: parley!.environment! } as unknown as Json,
      vars,
    ) as { pg: Record<string, string>; app: Record<string, string> };
    const settings = Object.fromEntries(
      [...env.pg.PGOPTIONS!.matchAll(/-c\s+([\w.]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]),
    );
    const initSql = read('deploy/postgres-init.sql');
    const read_ = [...initSql.matchAll(/current_setting\('(parley\.\w+_password)'/g)].map(
      (m) => m[1]!,
    );
    expect(Object.keys(settings).sort()).toEqual([...new Set(read_)].sort());
    const defaultRole = (setting: string) =>
      new RegExp(`current_setting\\('${setting}', true\\), ''\\),\\s*'(\\w+)'`).exec(initSql)?.[1];
    const runtimeUrl = new URL(env.app.PARLEY_DATABASE_URL!);
    const migrationUrl = new URL(env.app.PARLEY_MIGRATION_DATABASE_URL!);
    expect(runtimeUrl.username).toBe(defaultRole('parley.api_role'));
    expect(migrationUrl.username).toBe(defaultRole('parley.migrator_role'));
    expect(runtimeUrl.password).toBe(settings['parley.api_password']);
    expect(migrationUrl.password).toBe(settings['parley.migrator_password']);
    for (const url of [runtimeUrl, migrationUrl]) {
      expect(url.hostname).toBe('postgres');
      expect(url.pathname).toBe(`/${env.pg.POSTGRES_DB}`);
    }
    expect(runtimeUrl.password).not.toBe(migrationUrl.password);
    expect(env.app.PARLEY_MASTER_KEY).toBe(vars.PARLEY_MASTER_KEY);
  });

  it('configures a multi-user server on the image, with time to finish runs on stop', () => {
    const env = interpolateDeep(parley!.environment! as unknown as Json, exampleVars()) as Record<
      string,
      string
    >;
    const config = loadConfig({ ...imageEnv, ...env });
    expect(config).toMatchObject({ multiUser: true, host: '0.0.0.0', port: 4000 });
    expect(config.databaseUrl).toMatch(/^postgres:\/\//);
    expect(config.migrationDatabaseUrl).toMatch(/^postgres:\/\//);
    expect(parley!.init).toBe(true);
    expect(seconds(parley!.stop_grace_period!) * 1000).toBeGreaterThan(config.shutdownGraceMs);
  });

  it('deploy/env.example lists exactly the required variables, with no values', () => {
    const entries = read('deploy/env.example')
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => l.split('='));
    expect(entries.map(([k]) => k).sort()).toEqual([...requiredVariables].sort());
    for (const [name, value] of entries) expect(value, name).toBe('');
  });
});

describe('Dockerfile', () => {
  it('runs on a Debian-based Node image new enough for package.json "engines"', () => {
    const m = /^node:(\d+)[\w.-]*-(bookworm|trixie)(-slim)?$/.exec(runtime.from);
    expect(m, runtime.from).not.toBeNull();
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines;
    expect(Number(m![1])).toBeGreaterThanOrEqual(Number(/(\d+)/.exec(engines.node)![1]));
  });

  it('runs as a non-root user that owns the /data volume', () => {
    const user = last(runtime, 'USER')?.args;
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    const dataDir = imageEnv.PARLEY_DATA_DIR;
    expect(dataDir).toBe('/data');
    expect(last(runtime, 'VOLUME')?.args).toMatch(/^\[?\s*"?\/data"?\s*\]?$/);
    const runs = runtime.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    const chown = runs.map((r) => /chown\s+(\S+)\s+\/data\b/.exec(r)?.[1]).find(Boolean);
    expect(chown?.split(':')[0]).toBe(user);
    expect(runs.some((r) => /chmod\s+0?700\s+\/data\b/.test(r))).toBe(true);
    // USER comes after the RUN steps that need root, before CMD.
    const order = runtime.instructions.map((i) => i.keyword);
    expect(order.lastIndexOf('USER')).toBeGreaterThan(order.lastIndexOf('RUN'));
  });

  it('listens on all interfaces only with a setting the server accepts there', () => {
    expect(imageEnv.PARLEY_HOST).toBe('0.0.0.0');
    const config = loadConfig(imageEnv);
    expect(config.host).toBe('0.0.0.0');
    expect(config.multiUser || config.requireToken).toBe(true);
    const { PARLEY_REQUIRE_TOKEN: _, PARLEY_MULTI_USER: __, ...without } = imageEnv;
    expect(() => loadConfig(without)).toThrow(/PARLEY_HOST/);
  });

  it('exposes 4000, the port it listens on', () => {
    expect(last(runtime, 'EXPOSE')?.args).toBe('4000');
    expect(loadConfig(imageEnv).port).toBe(4000);
  });

  it("runs the server's main with the image's Node (production dependencies only)", () => {
    const cmd = JSON.parse(last(runtime, 'CMD')!.args) as string[];
    expect(cmd).toEqual(['node', 'packages/server/src/main.js']);
    const start = (JSON.parse(read('package.json')) as { scripts: { start: string } }).scripts
      .start;
    // npm start's Node flags (semi-spaces: docs/performance.md; no inspector on SIGUSR1:
    // docs/plugins/isolation.md) reach the image's server through NODE_OPTIONS.
    const flags = start.split(' ').filter((word) => word.startsWith('--'));
    expect(flags).toEqual(['--max-semi-space-size=4', '--disable-sigusr1']);
    expect(imageEnv.NODE_OPTIONS).toBe(flags.join(' '));
    // glibc returns freed memory above 128 KB (a PGlite server idles ~130 MB lower:
    // docs/performance.md); the systemd recipe in docs/deploy.md sets the same.
    expect(imageEnv.MALLOC_TRIM_THRESHOLD_).toBe('131072');
    expect(read('docs/deploy.md')).toContain(
      `Environment=MALLOC_TRIM_THRESHOLD_=${imageEnv.MALLOC_TRIM_THRESHOLD_}`,
    );
    expect(start).toBe([cmd[0], ...flags, ...cmd.slice(1)].join(' '));
    expect(statSync(path(cmd.at(-1)!)).isFile()).toBe(true);
    // --omit=dev leaves out the `node` devDependency: plain `node` is the base image's.
    const installs = stages
      .flatMap((s) => s.instructions)
      .filter((i) => i.keyword === 'RUN' && /npm ci\b/.test(i.args));
    expect(installs.some((i) => /npm ci --omit=dev/.test(i.args))).toBe(true);
    expect(runtime.instructions.some((i) => /node_modules\/\.bin\/node/.test(i.args))).toBe(false);
  });

  it('has a HEALTHCHECK on /healthz that needs nothing but node', () => {
    const health = last(runtime, 'HEALTHCHECK')!;
    expect(health).toBeDefined();
    const cmd = JSON.parse(/\bCMD\s+(\[[\s\S]*\])$/.exec(health.args)![1]!) as string[];
    expect(cmd.slice(0, 2)).toEqual(['node', '-e']);
    expect(cmd[2]).toContain('/healthz');
    expect(cmd[2]).toContain('process.env.PARLEY_PORT');
  });

  it('.dockerignore lets in everything the server runs, and keeps out secrets, state and installs', () => {
    const ignored = dockerignore(read('.dockerignore'));
    const needed = [
      'package.json',
      'package-lock.json',
      'LICENSE',
      ...workspaces.map((w) => `${w}/package.json`),
      ...workspaces.flatMap((w) => filesUnder(`${w}/src`)),
      ...filesUnder('packages/store/drizzle'),
    ];
    expect(needed).toContain('packages/server/src/main.js');
    expect(needed).toContain('packages/store/drizzle/meta/_journal.json');
    expect(needed.filter(ignored)).toEqual([]);
    const kept = [
      '.env',
      '.env.production',
      'deploy/.env',
      '.parley/master.key',
      'packages/server/.parley/credentials',
      'node_modules/fastify/package.json',
      'packages/store/node_modules/pg/package.json',
      'packages/server/.tsbuild/src/main.d.ts',
      'packages/dashboard/dist/index.html',
      '.git/config',
      'server.log',
    ];
    expect(kept.filter((f) => !ignored(f))).toEqual([]);
  });
});

describe('the same configuration without containers', () => {
  it('init SQL applied like the image does, then the server with compose.yaml’s environment: ' +
    'sign-up, an agent run, row-level security enforced on the runtime role', async () => {
    const db = await createTestDatabase('deploy');
    const suffix = randomBytes(4).toString('hex');
    // Test-only login role names (roles are cluster-wide), through the init SQL's own settings.
    const roles = { api: `parley_t_api_${suffix}`, migrator: `parley_t_mig_${suffix}` };
    const dataDir = await mkdtemp(join(tmpdir(), 'parley-deploy-'));
    const vars = exampleVars();
    const { postgres, parley } = compose.services;
    let child: ReturnType<typeof spawn> | undefined;
    try {
      const initSql = path('deploy/postgres-init.sql');
      const refused = await psql(db.adminUrl, ['-f', initSql]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('parley.api_password');

      const pgOptions = `${interpolate(postgres!.environment!.PGOPTIONS!, vars)} -c parley.api_role=${roles.api} -c parley.migrator_role=${roles.migrator}`;
      for (let i = 0; i < 2; i++) {
        // Twice: it may run again (new passwords, a second database).
        const applied = await psql(db.adminUrl, ['-q', '-f', initSql], {
          PGOPTIONS: pgOptions,
        });
        expect(applied.stderr).not.toMatch(/ERROR/);
        expect(applied.code).toBe(0);
      }

      // compose.yaml's Parley environment on the image's, with this machine's database in
      // place of the compose network's (same role passwords, test role names).
      const local = new URL(db.adminUrl);
      const relocate = (url: string, role: string) => {
        const u = new URL(url);
        u.hostname = local.hostname;
        u.port = local.port;
        u.pathname = local.pathname;
        u.username = role;
        return u.toString();
      };
      const serviceEnv = interpolateDeep(parley!.environment! as unknown as Json, vars) as Record<
        string,
        string
      >;
      const port = await freePort();
      const env = {
        ...baseEnv(),
        ...imageEnv,
        ...serviceEnv,
        PARLEY_DATABASE_URL: relocate(serviceEnv.PARLEY_DATABASE_URL!, roles.api),
        PARLEY_MIGRATION_DATABASE_URL: relocate(
          serviceEnv.PARLEY_MIGRATION_DATABASE_URL!,
          roles.migrator,
        ),
        // Loopback here: this is a shared machine, not a container.
        PARLEY_HOST: '127.0.0.1',
        PARLEY_PORT: String(port),
        PARLEY_DATA_DIR: dataDir,
        PARLEY_LOG_LEVEL: 'warn',
        PARLEY_SHUTDOWN_GRACE_SECONDS: '1',
      };
      const started = spawn(NODE, [path('packages/server/src/main.js')], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = started;
      let output = '';
      const exited = new Promise<number | null>((resolve) => started.once('exit', resolve));
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no start:\n${output}`)), 30_000);
        started.stdout!.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const m = /Parley listening on (http:\/\/\S+)/.exec(output);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
        started.stderr!.on('data', (chunk: Buffer) => {
          output += chunk.toString();
        });
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`server exited with ${code}:\n${output}`));
        });
      });
      expect(output).toContain('(multi-user, PostgreSQL)');
      // The server warns when the runtime connection could bypass row-level security.
      expect(output).not.toContain('warning:');

      const ready = await fetch(`${url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ ok: true, database: 'postgres' });

      // The image's HEALTHCHECK command, as is, with the port it would see.
      const health = JSON.parse(
        /\bCMD\s+(\[[\s\S]*\])$/.exec(last(runtime, 'HEALTHCHECK')!.args)![1]!,
      ) as string[];
      const healthEnv = { ...baseEnv(), PARLEY_PORT: String(port) };
      expect((await run(NODE, health.slice(1), healthEnv)).code).toBe(0);

      const signup = await fetch(`${url}/v1/auth/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: url },
        body: JSON.stringify({ email: 'first@example.com', password: 'first-long-password-1' }),
      });
      expect(signup.status).toBe(201);
      const session = (await signup.json()) as { workspaces: { id: string }[] };
      const workspaceId = session.workspaces[0]!.id;
      const as = (method: string, route: string, body: unknown, headers = {}) =>
        fetch(`${url}${route}`, {
          method,
          headers: {
            cookie: signup.headers.get('set-cookie')!.split(';')[0]!,
            origin: url,
            'content-type': 'application/json',
            ...headers,
          },
          body: JSON.stringify(body),
        });
      const agent = await as('POST', `/v1/workspaces/${workspaceId}/agents`, {
        definition: scriptedAgent('greeter', [
          [{ type: 'text', text: 'Hello from the deployed server.' }],
        ]),
        deploy: true,
      });
      expect(agent.status).toBe(201);
      const reply = await as(
        'POST',
        `/v1/workspaces/${workspaceId}/agents/greeter/runs`,
        { input: 'hi' },
        { accept: 'application/json' },
      );
      expect(reply.status).toBe(200);
      expect(await reply.json()).toMatchObject({
        outcome: 'run.finish',
        run: { status: 'succeeded' },
        text: 'Hello from the deployed server.',
      });

      // Who the server is in PostgreSQL: the runtime role, no superuser, no owner.
      const connections = await db.admin.query<{ usename: string }>(
        `select usename from pg_stat_activity where datname = current_database() and application_name = 'parley'`,
      );
      expect(connections.rows.length).toBeGreaterThan(0);
      expect(new Set(connections.rows.map((r) => r.usename))).toEqual(new Set([roles.api]));
      const [api] = (
        await db.admin.query(
          `select rolsuper, rolbypassrls, pg_has_role(rolname, 'parley_owner', 'MEMBER') as owner
               from pg_roles where rolname = $1`,
          [roles.api],
        )
      ).rows;
      expect(api).toEqual({ rolsuper: false, rolbypassrls: false, owner: false });
      const owners = await db.admin.query(
        `select distinct tableowner from pg_tables where schemaname = 'public'`,
      );
      expect(owners.rows).toEqual([{ tableowner: 'parley_owner' }]);
      // Row-level security applies to the runtime role: no rows outside its workspace.
      expect((await db.admin.query('select count(*)::int as n from agents')).rows).toEqual([
        { n: 1 },
      ]);
      const runtimeUrl = relocate(serviceEnv.PARLEY_DATABASE_URL!, roles.api);
      const count = (sql: string) => psql(runtimeUrl, ['-q', '-A', '-t', '-c', sql]);
      const outside = await count('select count(*) from agents');
      expect(outside.stderr).toBe('');
      expect(outside.stdout.trim()).toBe('0');
      const inside = await count(
        `select set_config('app.workspace_id', '${workspaceId}', false); select count(*) from agents`,
      );
      expect(inside.stdout.trim().split('\n').at(-1)).toBe('1');

      started.kill('SIGTERM');
      expect(await exited).toBe(0);
      child = undefined;
      expect((await run(NODE, health.slice(1), healthEnv)).code).toBe(1);
    } finally {
      child?.kill('SIGKILL');
      await db.drop();
      const cleanup = await psql(DATABASE_URL, [
        '-q',
        '-c',
        `drop role if exists ${roles.api}; drop role if exists ${roles.migrator};`,
      ]);
      await rm(dataDir, { recursive: true, force: true });
      expect(cleanup.stderr).toBe('');
    }
  }, 90_000);

  it('the PostgreSQL health check command works against a PostgreSQL server', async () => {
    const command = (compose.services.postgres!.healthcheck!.test as string[])[1]!;
    const port = new URL(DATABASE_URL).port || '5432';
    const up = await run('sh', ['-c', command], { ...baseEnv(), PGPORT: port });
    expect(up.stdout).toContain('accepting connections');
    expect(up.code).toBe(0);
    const down = await run('sh', ['-c', command], {
      ...baseEnv(),
      PGPORT: String(await freePort()),
    });
    expect(down.code).not.toBe(0);
  });
});
