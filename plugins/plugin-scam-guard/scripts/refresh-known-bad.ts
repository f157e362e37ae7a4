/**
 * Rebuilds the bundled known-bad list (data/known-bad-domains.txt) from the sources given:
 * local files or http(s) URLs of community lists (plain host-per-line, a JSON array, or
 * MetaMask's eth-phishing-detect config with a `blacklist`). Every entry is validated; by
 * default one bad entry stops the refresh without writing, so a broken feed never replaces a
 * good list.
 *
 *   npm run refresh -w @parley/plugin-scam-guard -- [--out FILE] [--allow-problems] SOURCE...
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BUNDLED_LIST_URL, parseDomainList } from '../src/known-bad.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    out: { type: 'string', default: fileURLToPath(BUNDLED_LIST_URL) },
    'allow-problems': { type: 'boolean', default: false },
  },
});

function fail(message: string): never {
  process.stderr.write(`refresh-known-bad: ${message}\n`);
  process.exit(1);
}

if (positionals.length === 0)
  fail('give at least one source: a file path or an http(s) URL of a domain list');

async function read(source: string): Promise<string> {
  if (!/^https?:\/\//i.test(source)) return readFile(source, 'utf8');
  const response = await fetch(source, { redirect: 'error', signal: AbortSignal.timeout(30_000) });
  if (!response.ok) fail(`${source} answered HTTP ${response.status}`);
  return response.text();
}

const domains = new Set<string>();
const problems: string[] = [];
for (const source of positionals) {
  let list: ReturnType<typeof parseDomainList>;
  try {
    list = parseDomainList(await read(source));
  } catch (error) {
    fail(`${source}: ${error instanceof Error ? error.message : String(error)}`);
  }
  for (const domain of list.domains) domains.add(domain);
  for (const p of list.problems) problems.push(`${source}:${p.line}: ${p.reason}: ${p.text}`);
}

if (problems.length > 0 && !values['allow-problems']) {
  process.stderr.write(`${problems.slice(0, 20).join('\n')}\n`);
  fail(
    `${problems.length} entries are not domain names: nothing written (fix the source, or pass --allow-problems to skip them)`,
  );
}
if (domains.size === 0) fail('the sources hold no domains: refusing to write an empty list');

const header = [
  '# Known-bad domains bundled with @parley/plugin-scam-guard: one host per line, ASCII (punycode).',
  '# Regenerate with: npm run refresh -w @parley/plugin-scam-guard -- <file-or-url>...',
  `# generated: ${new Date().toISOString()}`,
  ...positionals.map((source) => `# source: ${source.replace(/[\r\n]/g, ' ')}`),
  ...(problems.length > 0
    ? [`# skipped: ${problems.length} entries that are not domain names`]
    : []),
];
await writeFile(values.out, `${[...header, ...[...domains].sort()].join('\n')}\n`);
process.stdout.write(`refresh-known-bad: wrote ${domains.size} domains to ${values.out}\n`);
