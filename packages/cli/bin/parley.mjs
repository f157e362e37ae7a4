#!/usr/bin/env node
// The `parley` launcher. Parley runs TypeScript directly on Node 24; when this file is started by
// an older system Node (a shell where node_modules/.bin is not on PATH), it re-runs itself on the
// Node 24 that `npm install` put in node_modules. Plain JavaScript on purpose: it must load anywhere.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
if (major >= 24) {
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
  const result = spawnSync(node, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exit(result.status ?? (result.signal ? 128 + 1 : 1));
}
