import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { isLoopbackHost } from '@parley/core/net';
import { z } from 'zod';
import { BUILT_IN_PLUGINS, isBuiltInPlugin } from './runs/plugin-names.ts';

/**
 * The server's configuration: `PARLEY_*` environment variables, validated once at start-up.
 * A bad value stops the server with one line naming the variable (exit code 2), never a
 * stack trace and never a silent default.
 */

const flag = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'], {
    error: 'use 1 or 0 (true/false, yes/no, on/off)',
  })
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

const port = z.coerce
  .number({ error: 'must be a port number' })
  .int('must be a whole number')
  .min(0, 'must be 0–65535')
  .max(65_535, 'must be 0–65535');

const host = z
  .string()
  .min(1)
  .refine((h) => isIP(h) !== 0 || /^[a-z0-9.-]+$/i.test(h), 'must be an IP address or host name');

/** A comma-separated variable: its trimmed, non-empty items (each passed through `normalize`). */
const commaList = (normalize: (item: string) => string = (item) => item) =>
  z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((item) => normalize(item.trim()))
        .filter(Boolean),
    );
/**
 * Hosts agents may reach beyond the default: `host` (any port) or `host:port`, lower-cased;
 * written `http://host[:port]`, plain http to it is allowed too (secret-destination.ts).
 */
const hostList = commaList((h) => h.toLowerCase()).pipe(
  z.array(
    z
      .string()
      .regex(
        /^(http:\/\/)?([a-z0-9.-]+|\[[0-9a-f:]+\])(:\d{1,5})?$/,
        'must be host, host:port or http://host:port, comma-separated',
      ),
  ),
);

const EnvSchema = z.object({
  PARLEY_HOST: host.default('127.0.0.1'),
  PARLEY_PORT: port.default(4000),
  PARLEY_DATA_DIR: z.string().min(1).default('./.parley'),
  PARLEY_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/.+/, 'must be a postgres:// URL')
    .optional(),
  /** A superuser/owner URL for migrations when the runtime role may not create tables. */
  PARLEY_MIGRATION_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/.+/, 'must be a postgres:// URL')
    .optional(),
  PARLEY_MASTER_KEY: z.string().min(1).optional(),
  PARLEY_MULTI_USER: flag.default(false),
  /**
   * Single-user mode: require the API token from every caller, also browsers on this machine
   * (no automatic local session). Needed to bind beyond loopback without multi-user mode.
   */
  PARLEY_REQUIRE_TOKEN: flag.default(false),
  /** Allow anyone who reaches the server to sign up (multi-user mode). Invitations work regardless. */
  PARLEY_SIGNUP: flag.default(true),
  /**
   * Comma-separated emails allowed to read instance-wide views (funnel, instance signals), once
   * the person with the address confirmed it with a one-time operator code.
   */
  PARLEY_OPERATOR_EMAILS: commaList((e) => e.toLowerCase()),
  /**
   * The one-time operator code, chosen by whoever sets the environment (else the server
   * prints one in its log at start). Redeemed once, by a signed-in person whose address is in
   * PARLEY_OPERATOR_EMAILS: POST /v1/auth/operator/confirm.
   */
  PARLEY_OPERATOR_CODE: z
    .string()
    .trim()
    .min(16, 'use at least 16 characters, e.g. openssl rand -hex 12')
    .max(200)
    .optional(),
  /** Origins (scheme://host:port) the dashboard may be served from besides the server's own. */
  PARLEY_TRUSTED_ORIGINS: commaList().pipe(
    z.array(z.url({ error: 'must be comma-separated origins such as https://app.example' })),
  ),
  /** Set when a TLS-terminating proxy sits in front: cookies get `Secure`, X-Forwarded-* is trusted. */
  PARLEY_BEHIND_TLS_PROXY: flag.default(false),
  /**
   * Multi-user mode: hosts (host or host:port, comma-separated) besides the providers' own that
   * agents may send model requests and keys to (an Ollama or vLLM server, a gateway).
   */
  PARLEY_MODEL_HOSTS: hostList,
  /**
   * Installed plugins (package names, comma-separated) the run manager refuses: agents that
   * use one answer 422 until an operator enables it again (at runtime, for this process).
   */
  // Each must be installed: in the server's catalog, or a community plugin in PARLEY_PLUGINS_DIR
  // (checked below, where that directory is known).
  PARLEY_DISABLED_PLUGINS: commaList(),
  /**
   * A directory of community plugins installed on this server (one package per directory, as
   * in node_modules): they run out of process in @parley/sandbox (docs/plugins/isolation.md).
   */
  PARLEY_PLUGINS_DIR: z.string().min(1).optional(),
  /**
   * Multi-user mode: the exact command lines (`command arg …`, comma-separated) of stdio MCP
   * servers agents may start. Without it no agent may start a program on this server.
   */
  PARLEY_MCP_COMMANDS: commaList((c) => c.replace(/\s+/g, ' ')),
  /**
   * Multi-user mode: hosts (host or host:port, comma-separated) of Streamable HTTP MCP servers
   * agents may reach even though they are not public internet addresses.
   */
  PARLEY_MCP_HOSTS: hostList,
  /**
   * Host environment variables (names, comma-separated) passed to stdio MCP servers besides
   * PATH, HOME, USER, LOGNAME, SHELL, TERM, LANG, LC_ALL and TZ. Nothing else of the server's
   * environment reaches them (docs/mcp.md).
   */
  PARLEY_MCP_ENV: commaList().pipe(
    z.array(
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be variable names, comma-separated'),
    ),
  ),
  /**
   * Multi-user mode: host paths (comma-separated) a stdio MCP server's `sandbox.read` and
   * `sandbox.write` in agent.yaml may name (each path, or one under it).
   */
  PARLEY_MCP_PATHS: commaList(),
  /**
   * `os` (default): community plugins and stdio MCP programs run in the OS sandbox
   * (bubblewrap), and are refused where the host cannot provide it. `weak`: they run under
   * Node's permission model alone, a seat belt rather than a boundary (logged at every start).
   */
  PARLEY_SANDBOX: z.enum(['os', 'weak'], { error: 'must be os or weak' }).default('os'),
  /** Where bubblewrap is, when not in /usr/bin, /bin or /usr/local/bin (read by @parley/sandbox). */
  PARLEY_BWRAP: z
    .string()
    .refine((path) => path.startsWith('/'), 'must be an absolute path to the bwrap program')
    .optional(),
  /** Persist run events for resume (on), or stream without a log (off; benchmarks only). */
  PARLEY_EVENT_LOG: flag.default(true),
  /** Spans carry prompts, answers and tool data (scrubbed of secrets): docs/observability.md. */
  PARLEY_OTEL_CAPTURE_CONTENT: flag.default(false),
  PARLEY_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info'),
  /** Bearer token for /metrics when it is reached from beyond loopback. */
  PARLEY_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Seconds a run waits for a model's first byte, retries included (agent.yaml may say). */
  PARLEY_MODEL_FIRST_BYTE_SECONDS: z.coerce
    .number({ error: 'must be a number of seconds' })
    .positive('must be more than 0 seconds')
    .max(3_600)
    .default(60),
  /** Seconds of silence a run allows a model once its answer has started (agent.yaml may say). */
  PARLEY_MODEL_STALL_SECONDS: z.coerce
    .number({ error: 'must be a number of seconds' })
    .positive('must be more than 0 seconds')
    .max(3_600)
    .default(120),
  /** Where the dashboard's built files are (default: packages/dashboard/dist). */
  PARLEY_DASHBOARD_DIR: z.string().min(1).optional(),
  /**
   * Redis for the cluster's bus (live events, commands, cache invalidation) and shared
   * counters; PostgreSQL carries the bus when it is unset or down (docs/scaling.md).
   */
  PARLEY_REDIS_URL: z
    .string()
    .refine((url) => /^rediss?:\/\//.test(url), 'must be a redis:// or rediss:// URL')
    .optional(),
  /** Where the platforms reach this server (chat channels' webhooks: docs/channels.md). */
  PARLEY_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** This instance's name in the cluster (default: host name, process id and a random tail). */
  PARLEY_INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,100}$/, 'must be 1-100 letters, digits, dots, dashes, colons')
    .optional(),
  /**
   * Seconds a running run's lease lasts without its instance's heartbeat: after that another
   * instance takes the run over and continues it (PostgreSQL).
   */
  PARLEY_RUN_LEASE_SECONDS: z.coerce
    .number({ error: 'must be a number of seconds' })
    .min(1, 'must be at least 1 second')
    .max(600)
    .default(6),
  /** Seconds in-flight runs get to finish on SIGTERM before they are aborted. */
  PARLEY_SHUTDOWN_GRACE_SECONDS: z.coerce
    .number({ error: 'must be a number of seconds' })
    .min(0)
    .max(600)
    .default(10),
});

/** Every setting the server reads (docs/server.md lists them; a test keeps the two equal). */
export const CONFIG_VARIABLES = Object.keys(EnvSchema.shape);

export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl?: string;
  migrationDatabaseUrl?: string;
  /** Redis for the bus and shared counters (PARLEY_REDIS_URL). */
  redisUrl?: string;
  /** This instance's name in the cluster. */
  instanceId: string;
  /** The server's public URL (PARLEY_PUBLIC_URL): where chat platforms call webhooks. */
  publicUrl?: string;
  /** How long a run's lease lasts without a heartbeat (ms). */
  runLeaseMs: number;
  masterKey?: string;
  multiUser: boolean;
  requireToken: boolean;
  signup: boolean;
  operatorEmails: string[];
  /** The operator's own one-time code (PARLEY_OPERATOR_CODE); else one is made and logged. */
  operatorCode?: string;
  trustedOrigins: string[];
  /** Extra hosts model requests may go to in multi-user mode (single-user: any). */
  modelHosts: string[];
  /** Where community plugins are installed (they run sandboxed). */
  pluginsDir?: string;
  /** Multi-user mode: stdio MCP command lines agents may start. */
  mcpCommands: string[];
  /** Multi-user mode: non-public hosts HTTP MCP servers may be on. */
  mcpHosts: string[];
  /** Host variables stdio MCP servers get besides the base set (PARLEY_MCP_ENV). */
  mcpEnv: string[];
  /** Multi-user mode: host paths stdio MCP programs may be given. */
  mcpPaths: string[];
  /** Where community plugins and stdio MCP programs run (docs/plugins/isolation.md). */
  sandbox: 'os' | 'weak';
  behindTlsProxy: boolean;
  /** Plugins runs may not use (an operator changes the list at runtime). */
  disabledPlugins: string[];
  eventLog: boolean;
  /** Exported spans carry content (PARLEY_OTEL_CAPTURE_CONTENT; off by default). */
  otelCaptureContent: boolean;
  /** How long runs wait for a model unless its agent says (model.timeouts). */
  modelTimeouts: { firstByteMs: number; stallMs: number };
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  metricsToken?: string;
  dashboardDir?: string;
  shutdownGraceMs: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** The variable at fault. */
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(message);
    this.variable = variable;
  }
}

/** Read by the `parley` CLI, not the server: allowed in the same environment. */
const CLIENT_VARIABLES = new Set(['PARLEY_SERVER', 'PARLEY_TOKEN', 'PARLEY_WORKSPACE']);

/** True for `localhost` and loopback addresses in any form: addresses only this machine reaches. */
export const isLoopback = isLoopbackHost;

/**
 * A plugin this server can run: one of its own catalog, or a community plugin installed in
 * `pluginsDir` (one package per directory, `@scope/name` nested). An incident lever must reach
 * both: the untrusted ones most of all.
 */
export function isInstalledPlugin(name: string, pluginsDir: string | undefined): boolean {
  if (isBuiltInPlugin(name)) return true;
  if (!pluginsDir || !/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i.test(name)) return false;
  return existsSync(join(resolve(pluginsDir), name, 'package.json'));
}

/** Reads and validates the configuration; throws ConfigError naming the first bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): ServerConfig {
  const relevant = Object.fromEntries(
    Object.entries(env).filter(([k, v]) => k.startsWith('PARLEY_') && v !== undefined && v !== ''),
  );
  const unknown = Object.keys(relevant).filter(
    (k) => !(k in EnvSchema.shape) && !CLIENT_VARIABLES.has(k),
  );
  const result = EnvSchema.safeParse(relevant);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'PARLEY_*');
    // A URL's credentials stay out of the message (and so out of logs).
    const shown = relevant[variable]?.replace(/\/\/.*@/s, '//…@');
    const value =
      shown === undefined || /KEY|TOKEN|CODE/.test(variable)
        ? ''
        : ` (got "${shown.length > 60 ? `${shown.slice(0, 60)}…` : shown}")`;
    throw new ConfigError(variable, `${variable} ${issue.message}${value}.`);
  }
  if (unknown.length > 0) {
    const known = Object.keys(EnvSchema.shape);
    throw new ConfigError(
      unknown[0]!,
      `${unknown[0]} is not a Parley setting (known: ${known.join(', ')}).`,
    );
  }
  const e = result.data;
  const notInstalled = e.PARLEY_DISABLED_PLUGINS.find(
    (name) => !isInstalledPlugin(name, e.PARLEY_PLUGINS_DIR),
  );
  if (notInstalled !== undefined)
    throw new ConfigError(
      'PARLEY_DISABLED_PLUGINS',
      `PARLEY_DISABLED_PLUGINS must name installed plugins, comma-separated (${BUILT_IN_PLUGINS.join(', ')}${e.PARLEY_PLUGINS_DIR ? ', or one in PARLEY_PLUGINS_DIR' : ''}) (got "${notInstalled}").`,
    );
  const config: ServerConfig = {
    host: e.PARLEY_HOST,
    port: e.PARLEY_PORT,
    dataDir: resolve(e.PARLEY_DATA_DIR),
    multiUser: e.PARLEY_MULTI_USER,
    requireToken: e.PARLEY_REQUIRE_TOKEN,
    signup: e.PARLEY_SIGNUP,
    operatorEmails: e.PARLEY_OPERATOR_EMAILS,
    ...(e.PARLEY_OPERATOR_CODE ? { operatorCode: e.PARLEY_OPERATOR_CODE } : {}),
    trustedOrigins: e.PARLEY_TRUSTED_ORIGINS.map((o) => new URL(o).origin),
    modelHosts: e.PARLEY_MODEL_HOSTS,
    mcpCommands: e.PARLEY_MCP_COMMANDS,
    mcpHosts: e.PARLEY_MCP_HOSTS,
    mcpEnv: e.PARLEY_MCP_ENV,
    mcpPaths: e.PARLEY_MCP_PATHS.map((path) => resolve(path)),
    sandbox: e.PARLEY_SANDBOX,
    ...(e.PARLEY_PLUGINS_DIR ? { pluginsDir: resolve(e.PARLEY_PLUGINS_DIR) } : {}),
    behindTlsProxy: e.PARLEY_BEHIND_TLS_PROXY,
    disabledPlugins: [...new Set(e.PARLEY_DISABLED_PLUGINS)],
    eventLog: e.PARLEY_EVENT_LOG,
    otelCaptureContent: e.PARLEY_OTEL_CAPTURE_CONTENT,
    modelTimeouts: {
      firstByteMs: e.PARLEY_MODEL_FIRST_BYTE_SECONDS * 1000,
      stallMs: e.PARLEY_MODEL_STALL_SECONDS * 1000,
    },
    logLevel: e.PARLEY_LOG_LEVEL,
    shutdownGraceMs: e.PARLEY_SHUTDOWN_GRACE_SECONDS * 1000,
    instanceId: e.PARLEY_INSTANCE_ID ?? defaultInstanceId(),
    ...(e.PARLEY_PUBLIC_URL ? { publicUrl: e.PARLEY_PUBLIC_URL } : {}),
    runLeaseMs: e.PARLEY_RUN_LEASE_SECONDS * 1000,
    ...(e.PARLEY_REDIS_URL ? { redisUrl: e.PARLEY_REDIS_URL } : {}),
    ...(e.PARLEY_DATABASE_URL ? { databaseUrl: e.PARLEY_DATABASE_URL } : {}),
    ...(e.PARLEY_MIGRATION_DATABASE_URL
      ? { migrationDatabaseUrl: e.PARLEY_MIGRATION_DATABASE_URL }
      : {}),
    ...(e.PARLEY_MASTER_KEY ? { masterKey: e.PARLEY_MASTER_KEY } : {}),
    ...(e.PARLEY_METRICS_TOKEN ? { metricsToken: e.PARLEY_METRICS_TOKEN } : {}),
    ...(e.PARLEY_DASHBOARD_DIR ? { dashboardDir: resolve(e.PARLEY_DASHBOARD_DIR) } : {}),
  };
  // Nothing is exposed beyond this machine unless someone must sign in to use it.
  if (!isLoopback(config.host) && !config.multiUser && !config.requireToken) {
    throw new ConfigError(
      'PARLEY_HOST',
      `PARLEY_HOST=${config.host} would expose a single-user server beyond this machine: set PARLEY_MULTI_USER=1 (sign-in required), or PARLEY_REQUIRE_TOKEN=1 (every caller needs the API token), or bind 127.0.0.1.`,
    );
  }
  return config;
}

/** Unique per process, readable in logs: `host:pid:abcd`. */
function defaultInstanceId(): string {
  return `${hostname().slice(0, 60)}:${process.pid}:${randomBytes(3).toString('hex')}`;
}
