import { spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CORE_VERSION, PLUGIN_CONTRACT } from '@parley/core';
import { isolationChecks } from './isolation.ts';
import { readPluginPackage } from './package-manifest.ts';
import type { ProbeInput, ProbeMessage } from './probe.ts';
import {
  fail,
  KIT_RESULT_VERSION,
  type KitCheck,
  type KitResult,
  type KitTarget,
  skip,
} from './result.ts';

const PROBE = fileURLToPath(new URL('./probe.ts', import.meta.url));
/** Until the probe's Node has started and imported core (before any plugin code runs). */
const STARTUP_LIMIT_MS = 30_000;

/** The core this kit runs with: the default target. */
export const CURRENT_TARGET: KitTarget = { core: CORE_VERSION, contract: PLUGIN_CONTRACT };

export interface KitOptions {
  target?: KitTarget;
  /** Config for a factory-style plugin; else package.json `parley.kitConfig`. */
  config?: Record<string, unknown>;
  /** Limit for one tool call, one start or one stop (default 5 s). */
  stepTimeoutMs?: number;
}

/**
 * Runs the compatibility kit on the plugin in `dir`: package.json checks here, everything
 * else in a fresh Node process under the permission model (writes only inside `dir`, no child
 * processes), with an empty environment and no network. Never throws for a bad plugin: every
 * problem is a failed check in the result.
 */
export async function runKit(dir: string, options: KitOptions = {}): Promise<KitResult> {
  const target = options.target ?? CURRENT_TARGET;
  const stepTimeoutMs = options.stepTimeoutMs ?? 5_000;
  const { pkg, checks } = await readPluginPackage(dir);
  const result: KitResult = {
    kitResult: KIT_RESULT_VERSION,
    plugin: { name: pkg?.name ?? null, version: pkg?.version ?? null, dir: pkg?.dir ?? dir },
    target,
    ok: false,
    checks,
  };
  if (pkg && checks.every((c) => c.id !== 'manifest.entry' || c.status === 'pass')) {
    const realDir = realpathSync(pkg.dir);
    const input: ProbeInput = {
      dir: realDir,
      entry: pathToFileURL(realpathSync(pkg.entry)).href,
      packageName: pkg.name,
      packageVersion: pkg.version,
      peerCore: pkg.peerCore,
      target,
      config: options.config ?? pkg.kitConfig,
      stepTimeoutMs,
      importTimeoutMs: Math.max(stepTimeoutMs * 2, 10_000),
    };
    const probe = await runProbe(input);
    checks.push(...probe.checks);
    const loaded = probe.plugin;
    if (loaded) result.plugin = { ...result.plugin, name: loaded.name, version: loaded.version };
    const refused = (id: string) => checks.some((c) => c.id === id && c.status === 'fail');
    if (!loaded || refused('manifest.host') || refused('lifecycle.process')) {
      // Nothing to isolate: the plugin did not load, a host refused it, or it broke its process.
    } else if (loaded.tools.length === 0) {
      checks.push(
        skip(
          'isolation',
          'isolation',
          'skipped: out of process a plugin offers tools, and this one has none',
        ),
      );
    } else if (!loaded.defaultExport) {
      checks.push(
        skip(
          'isolation',
          'isolation',
          'skipped: @parley/sandbox runs a default-exported plugin; this one is a named export or built by a factory (it runs in process, as core plugins do)',
        ),
      );
    } else {
      checks.push(
        ...(await isolationChecks({
          dir: realDir,
          entry: realpathSync(pkg.entry),
          permissions: loaded.permissions,
          samples: probe.samples,
          toolNames: loaded.tools,
          stepTimeoutMs,
        })),
      );
    }
  }
  result.ok = checks.length > 0 && checks.every((c) => c.status !== 'fail');
  return result;
}

/** Starts the probe and collects its checks; a probe that stops answering is killed. */
type LoadedPlugin = Omit<Extract<ProbeMessage, { type: 'plugin' }>, 'type'>;
type Sample = Omit<Extract<ProbeMessage, { type: 'sample' }>, 'type'>;

function runProbe(
  input: ProbeInput,
): Promise<{ checks: KitCheck[]; plugin?: LoadedPlugin; samples: Sample[] }> {
  return new Promise((done) => {
    const checks: KitCheck[] = [];
    const samples: Sample[] = [];
    let plugin: LoadedPlugin | undefined;
    let finished = false;
    let stderr = '';
    const child = spawn(
      process.execPath,
      [
        '--permission',
        '--allow-fs-read=*',
        `--allow-fs-write=${input.dir}`,
        '--disable-warning=ExperimentalWarning',
        PROBE,
        JSON.stringify(input),
      ],
      { env: {}, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] },
    );
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    // Every step has its own limit inside the probe; this catches a plugin that blocks the
    // event loop (a synchronous loop), where no limit inside the process can fire. Starting
    // Node and importing the plugin get limits of their own: a loaded machine is slow there.
    let watchdog: NodeJS.Timeout;
    const arm = (ms: number) => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        checks.push(
          fail(
            'lifecycle',
            'lifecycle.process',
            `the plugin stopped its process from answering for ${ms / 1000} s (a synchronous loop?): killed`,
          ),
        );
        child.kill('SIGKILL');
      }, ms);
    };
    arm(STARTUP_LIMIT_MS);
    child.on('message', (message: ProbeMessage) => {
      arm(message.type === 'ready' ? input.importTimeoutMs + 5_000 : input.stepTimeoutMs * 3);
      if (message.type === 'check') checks.push(message.check);
      else if (message.type === 'plugin') {
        const { type: _, ...loaded } = message;
        plugin = loaded;
      } else if (message.type === 'sample') {
        const { type: _, ...sample } = message;
        samples.push(sample);
      } else if (message.type === 'done') finished = true;
    });
    child.on('exit', (code, signal) => {
      clearTimeout(watchdog);
      if (!finished && signal !== 'SIGKILL')
        checks.push(
          fail(
            'lifecycle',
            'lifecycle.process',
            `the plugin ended its process (${signal ?? `exit code ${code}`})${stderr ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`,
          ),
        );
      done({ checks, samples, ...(plugin ? { plugin } : {}) });
    });
  });
}
