/**
 * `npm run plugins:matrix`: runs the kit for every plugin in registry/plugins.json against
 * the current core and the previous contract, writes docs/plugins/compatibility.md and the
 * registry's testedCore and lastKit, and the kit's result schema as JSON Schema. `--check` writes nothing and exits 1 when either
 * committed file differs from the fresh run (for CI).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { applyMatrix, renderCompatibility, runMatrix } from './matrix.ts';
import { formatRegistry, loadRegistry, REGISTRY_FILE } from './registry.ts';
import { kitResultJsonSchema } from './result.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const COMPATIBILITY_FILE = fileURLToPath(
  new URL('../../../docs/plugins/compatibility.md', import.meta.url),
);
export const RESULT_SCHEMA_FILE = fileURLToPath(
  new URL('../../../docs/plugins/kit-result.schema.json', import.meta.url),
);

const check = process.argv.includes('--check');
const registry = await loadRegistry(REGISTRY_FILE);
const matrix = await runMatrix(registry, ROOT);
const outputs = [
  { file: COMPATIBILITY_FILE, text: renderCompatibility(matrix) },
  { file: REGISTRY_FILE, text: formatRegistry(applyMatrix(registry, matrix)) },
  { file: RESULT_SCHEMA_FILE, text: kitResultJsonSchema() },
];
let stale = 0;
for (const { file, text } of outputs) {
  const before = await readFile(file, 'utf8').catch(() => '');
  if (before === text) continue;
  if (check) {
    stale++;
    process.stderr.write(`${file} is stale: run npm run plugins:matrix and commit the result\n`);
  } else {
    await writeFile(file, text, 'utf8');
    process.stdout.write(`wrote ${file}\n`);
  }
}
for (const row of matrix.rows)
  for (const cell of row.cells)
    process.stdout.write(
      `${row.entry.name} × core ${cell.target.core}: ${cell.result ? (cell.result.ok ? 'pass' : 'fail') : 'not run'}\n`,
    );
process.exitCode = stale > 0 ? 1 : 0;
