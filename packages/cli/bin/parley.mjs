#!/usr/bin/env node
// The `parley` launcher. Parley runs TypeScript directly on Node 24; when this file is started by
// an older system Node (a shell where node_modules/.bin is not on PATH), it re-runs itself on the
// Node 24 that `npm install` put in node_modules. Plain JavaScript on purpose: it must load anywhere.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
if (major >= 24) {
  // Compiled code is cached on disk and reused while the files are unchanged (faster starts).
  (await import('node:module')).enableCompileCache?.();
  await import('../src/main.ts');
} else {
  let dir = dirname(fileURLToPath(import.meta.url));
  let node;
  for (;;) {
    const candidate = join(dir, 'node_modules', '.bin', 'node');
    if (existsSync(candidate)) {
      node = candidate;
      break;
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  if (!node) {
    process.stderr.write(
      `parley needs Node.js 24 (this is ${process.version}): run npm install in the project (it brings Node 24), or use npx parley.\n`,
    );
    process.exit(1);
  }
  const child = spawn(node, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  // SIGTERM/SIGHUP sent to this process (kill, a supervisor) are passed to the real one. Ctrl-C
  // in a terminal already reaches both processes: the launcher ignores it and the child decides
  // (parley chat cancels the run; parley start shuts down), so it is not delivered twice.
  for (const signal of ['SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      if (child.exitCode === null) child.kill(signal);
    });
  }
  process.on('SIGINT', () => {});
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
}
