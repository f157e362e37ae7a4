import { existsSync, realpathSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CORE_VERSION } from '@parley/core';
import { CliError, type Io, line, painter } from '../io.ts';
import { shellQuote } from '../shell-quote.ts';
import { CLI_PACKAGE_DIR, renderTemplate } from './create.ts';

/** What `parley plugin new` copies: templates/plugin at the repository root. */
export const PLUGIN_TEMPLATE_DIR = fileURLToPath(
  new URL('../../../../templates/plugin/', import.meta.url),
);
/** @parley/core's directory, which the new plugin depends on with `file:` (nothing is on npm). */
const CORE_PACKAGE_DIR = realpathSync(
  dirname(fileURLToPath(import.meta.resolve('@parley/core/package.json'))),
);

const PACKAGE_NAME = /^(@[a-z0-9][a-z0-9-._~]*\/)?[a-z0-9][a-z0-9-._~]*$/;

async function templateFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await templateFiles(dir, path)));
    else out.push(path);
  }
  return out.sort();
}

/** `parley plugin new <name>`: a plugin project with a tool, a test and a README. */
export async function newPlugin(
  io: Io,
  name: string | undefined,
  values: Record<string, unknown>,
): Promise<number> {
  const p = painter(io);
  if (!name) throw new CliError('Which name? parley plugin new <name> (an npm package name).', 2);
  if (!PACKAGE_NAME.test(name) || name.length > 214)
    throw new CliError(
      `"${name}" is not an npm package name: use lowercase letters, digits and "-", optionally @scope/name.`,
      2,
    );
  const given = (values.dir as string | undefined) ?? basename(name);
  const dir = resolve(io.cwd, given);
  if (existsSync(dir)) {
    if (!(await stat(dir)).isDirectory())
      throw new CliError(`${given} exists and is not a directory.`);
    if ((await readdir(dir)).length > 0)
      throw new CliError(`${given} is not empty: choose a new directory with --dir.`);
  }
  const templateValues = {
    packageName: name,
    coreVersion: CORE_VERSION,
    cliPath: CLI_PACKAGE_DIR,
    corePath: CORE_PACKAGE_DIR,
  };
  const quoted = (value: string) => JSON.stringify(value).slice(1, -1);
  const files: { name: string; text: string }[] = [];
  for (const file of await templateFiles(PLUGIN_TEMPLATE_DIR)) {
    const template = await readFile(join(PLUGIN_TEMPLATE_DIR, file), 'utf8');
    files.push({
      name: file,
      text: renderTemplate(template, templateValues, file.endsWith('.md') ? undefined : quoted),
    });
  }
  const created = !existsSync(dir);
  try {
    for (const file of files) {
      await mkdir(dirname(join(dir, file.name)), { recursive: true });
      await writeFile(join(dir, file.name), file.text, { flag: 'wx', encoding: 'utf8' });
    }
  } catch (error) {
    if (created) await rm(dir, { recursive: true, force: true });
    throw new CliError(`Could not write the plugin in ${given}: ${(error as Error).message}`);
  }
  if (values.json) {
    line(io, JSON.stringify({ dir, package: name, files: files.map((f) => f.name) }, null, 2));
    return 0;
  }
  line(io, `${p.green('✓')} Created plugin ${name} in ${dir}`);
  line(io, p.dim(`  ${files.map((f) => f.name).join('  ')}`));
  line(io);
  line(io, 'Next:');
  line(io, `  cd ${shellQuote(relative(io.cwd, dir) || '.')} && npm install`);
  line(io, '  npm test                 # its own tests');
  line(io, '  npx parley plugin test   # the compatibility kit');
  return 0;
}
