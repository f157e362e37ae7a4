/**
 * Hello Agent, timed: how long a new user waits from `git clone` to the first streamed reply.
 *
 *   npm run bench:hello            # fresh clone → npm ci → parley create (with its npm install)
 *                                  #   → parley start → parley deploy → parley run (first text)
 *   npm run bench:hello -- --quick # the same, but node_modules is a hard-linked copy of this
 *                                  #   checkout's (no npm ci) and parley create --no-install
 *   … -- --keep                    # keep the temporary directory (its path is printed)
 *
 * The clone is of this repository's HEAD (committed work only), made through git's normal
 * transport (file://, no hard links), in a temporary directory with ../shared linked beside it
 * as in CI. The agent is the one `parley create --yes` writes: the offline scripted model (it
 * calls the calculator, then answers), so no API key and no provider are involved. Commands
 * run through node_modules/.bin/parley from a PATH without this checkout's node_modules/.bin,
 * as in a plain shell: the launcher re-runs itself on the project's Node 24. Prints each phase
 * as it ends, the total, then one JSON line.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './lib.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const args = new Set(process.argv.slice(2));
for (const arg of args)
  if (!['--quick', '--keep', '--help'].includes(arg)) {
    process.stderr.write(`hello-agent: unknown option ${arg} (--quick, --keep)\n`);
    process.exit(2);
  }
if (args.has('--help')) {
  process.stdout.write('npm run bench:hello [-- --quick] [-- --keep]\n');
  process.exit(0);
}
const quick = args.has('--quick');
const keep = args.has('--keep');

/** A plain shell's PATH: without any node_modules/.bin that `npm run` put in front. */
const PATH = (process.env.PATH ?? '')
  .split(delimiter)
  .filter((p) => !p.includes('node_modules/.bin'))
  .join(delimiter);

const phases: { name: string; ms: number; note?: string }[] = [];
const children = new Set<ChildProcess>();

function record(name: string, ms: number, note?: string) {
  phases.push({ name, ms, ...(note ? { note } : {}) });
  process.stdout.write(
    `${name.padEnd(30)} ${(ms / 1000).toFixed(2).padStart(7)} s${note ? `   ${note}` : ''}\n`,
  );
}

async function phase<T>(name: string, work: () => Promise<T>, note?: (value: T) => string) {
  const started = performance.now();
  const value = await work();
  record(name, performance.now() - started, note?.(value));
  return value;
}

/** Runs a command to its end; rejects with its output when it fails. */
function run(
  command: string,
  argv: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, {
      cwd: options.cwd,
      env: { ...process.env, PATH, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let output = '';
    child.stdout.on('data', (c) => {
      output += c;
    });
    child.stderr.on('data', (c) => {
      output += c;
    });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      children.delete(child);
      if (code === 0) resolve(output);
      else
        reject(
          new Error(`${command} ${argv.join(' ')} failed (${code ?? signal}):\n${output.trim()}`),
        );
    });
  });
}

/** Starts a command and resolves when its stdout matches (the command keeps running). */
function startUntil(
  command: string,
  argv: string[],
  pattern: RegExp,
  options: { cwd: string; env?: Record<string, string> },
): Promise<{ child: ChildProcess; match: RegExpExecArray; output: () => string }> {
  return new Promise((resolve, reject) => {
    // Its own process group, so a signal can reach the whole group as Ctrl-C in a terminal does.
    const child = spawn(command, argv, {
      cwd: options.cwd,
      env: { ...process.env, PATH, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    children.add(child);
    let output = '';
    let matched = false;
    child.stdout.on('data', (c) => {
      output += c;
      const match = matched ? null : pattern.exec(output);
      if (match) {
        matched = true;
        resolve({ child, match, output: () => output });
      }
    });
    child.stderr.on('data', (c) => {
      output += c;
    });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      children.delete(child);
      if (!matched)
        reject(new Error(`${command} ${argv.join(' ')} ended (${code ?? signal}):\n${output}`));
    });
  });
}

/** Ctrl-C for a process started by startUntil: SIGINT to its group, then wait (SIGKILL at 15 s). */
async function interrupt(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const closed = new Promise((r) => child.once('close', r));
  const group = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
  };
  group('SIGINT');
  const timer = setTimeout(() => group('SIGKILL'), 15_000);
  await closed;
  clearTimeout(timer);
}

const work = await mkdtemp(join(tmpdir(), 'parley-hello-'));
const clone = join(work, 'parley');
const project = join(work, 'my-agent');
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT })
  .toString()
  .trim();
let server: ChildProcess | undefined;
let failed = false;
try {
  process.stdout.write(
    `Hello Agent (${quick ? 'quick: node_modules reused, no project install' : 'fresh clone and installs'}), ${commit}, in ${work}\n\n`,
  );
  if (existsSync(join(ROOT, '..', 'shared')))
    await symlink(join(ROOT, '..', 'shared'), join(work, 'shared'));

  await phase('git clone', () =>
    run('git', ['clone', '--quiet', '--no-hardlinks', `file://${ROOT}`, clone], { cwd: work }),
  );

  if (quick) {
    await phase('node_modules (linked copy)', () =>
      run('cp', ['-al', join(ROOT, 'node_modules'), join(clone, 'node_modules')], { cwd: work }),
    );
  } else {
    await phase('npm ci', () => run('npm', ['ci', '--no-fund', '--no-audit'], { cwd: clone }));
  }

  // The clone's own parley, as `npx parley` finds it there.
  const cloneParley = join(clone, 'node_modules', '.bin', 'parley');
  await phase(quick ? 'parley create --no-install' : 'parley create (+ npm install)', () =>
    run(cloneParley, ['create', project, '--yes', ...(quick ? ['--no-install'] : [])], {
      cwd: work,
    }),
  );
  // In the project, `npx parley` is the project's own (a file: link to the clone's CLI).
  const parley = quick ? cloneParley : join(project, 'node_modules', '.bin', 'parley');
  const env = { NO_COLOR: '1', PARLEY_PORT: String(await freePort()) };

  const started = await phase(
    'parley start (listening)',
    () =>
      startUntil(parley, ['start'], /Parley listening on (http:\/\/\S+)/, { cwd: project, env }),
    (s) => s.match[1]!,
  );
  server = started.child;

  await phase('parley deploy', () => run(parley, ['deploy', '--yes'], { cwd: project, env }));

  // The first streamed reply: from typing `parley run` to the answer's first text on the
  // terminal (the line after the calculator's result); the run then finishes.
  const t0 = performance.now();
  const running = await startUntil(parley, ['run', 'What is 6 * 7?'], /← calculator[^\n]*\n\S/, {
    cwd: project,
    env,
  });
  const firstMs = performance.now() - t0;
  const code = await new Promise<number | null>((r) => {
    if (running.child.exitCode !== null) r(running.child.exitCode);
    else running.child.once('close', (c) => r(c));
  });
  if (code !== 0) throw new Error(`parley run exited ${code}:\n${running.output()}`);
  const wholeMs = performance.now() - t0;
  record('parley run (first text)', firstMs, `run finished at ${(wholeMs / 1000).toFixed(2)} s`);

  const total = phases.reduce((sum, p) => sum + p.ms, 0);
  process.stdout.write(`${'total'.padEnd(30)} ${(total / 1000).toFixed(2).padStart(7)} s\n\n`);
  process.stdout.write(
    `${JSON.stringify({
      bench: 'hello-agent',
      mode: quick ? 'quick' : 'full',
      commit,
      node: process.version,
      phasesMs: Object.fromEntries(phases.map((p) => [p.name, Math.round(p.ms)])),
      runFinishedMs: Math.round(wholeMs),
      totalMs: Math.round(total),
    })}\n`,
  );
} catch (error) {
  failed = true;
  process.stderr.write(`hello-agent: ${(error as Error).message}\n`);
} finally {
  if (server) await interrupt(server);
  for (const child of children) child.kill('SIGKILL');
  if (keep) process.stdout.write(`kept ${work}\n`);
  else await rm(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
