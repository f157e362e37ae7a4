import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CHECK_AREAS, findEntry, type KitResult, type Registry, runKit } from '@parley/plugin-kit';
import { CliError, type Io, line, painter } from '../io.ts';

function parseConfig(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {}
  throw new CliError(`--config takes a JSON object, such as '{"allow":["example.com"]}'.`, 2);
}

function printResult(io: Io, result: KitResult) {
  const p = painter(io);
  const who = result.plugin.name
    ? `${result.plugin.name}${result.plugin.version ? ` ${result.plugin.version}` : ''}`
    : result.plugin.dir;
  line(io, `Plugin kit · ${who} · core ${result.target.core} (contract ${result.target.contract})`);
  for (const area of CHECK_AREAS) {
    const checks = result.checks.filter((c) => c.area === area);
    if (checks.length === 0) continue;
    line(io);
    line(io, p.bold(area));
    for (const check of checks) {
      const mark =
        check.status === 'pass' ? p.green('✓') : check.status === 'fail' ? p.red('✗') : p.dim('-');
      line(
        io,
        `  ${mark} ${check.message}${check.status === 'fail' ? p.dim(`  (${check.id})`) : ''}`,
      );
    }
  }
  const failed = result.checks.filter((c) => c.status === 'fail').length;
  line(io);
  line(
    io,
    failed === 0
      ? `${p.green('✓')} ${result.checks.length} checks passed`
      : `${p.red('✗')} ${failed} of ${result.checks.length} checks failed`,
  );
}

/** `parley plugin test [dir]`: the compatibility kit; exit code 1 when a check fails. */
export async function testPlugin(
  io: Io,
  dirGiven: string | undefined,
  values: Record<string, unknown>,
  registry: () => Promise<Registry>,
): Promise<number> {
  const dir = resolve(io.cwd, dirGiven ?? '.');
  let config = parseConfig(values.config as string | undefined);
  if (!config) {
    // A plugin the registry lists is built with the registry's kitConfig.
    const name = await readFile(join(dir, 'package.json'), 'utf8')
      .then((text) => (JSON.parse(text) as { name?: unknown }).name)
      .catch(() => undefined);
    if (typeof name === 'string') config = findEntry(await registry(), name)?.kitConfig;
  }
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && !(Number.isInteger(timeout) && timeout >= 100 && timeout <= 600_000))
    throw new CliError('--timeout takes milliseconds between 100 and 600000.', 2);
  const result = await runKit(dir, {
    ...(config ? { config } : {}),
    ...(timeout ? { stepTimeoutMs: timeout } : {}),
  });
  if (values.json) line(io, JSON.stringify(result, null, 2));
  else printResult(io, result);
  return result.ok ? 0 : 1;
}
