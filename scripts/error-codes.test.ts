import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES, type ErrorCode, RETIRED_ERROR_CODES } from '@parley/protocol';
import { describe, expect, it } from 'vitest';

/*
 * The error-code table (@parley/protocol's ERROR_CODES) against the documentation and the
 * code: every code is documented (docs/api.md for HTTP and library codes, docs/streaming.md
 * for stream codes) with the table's status or retry default, every code the documents list
 * is in the table, and every code is produced somewhere: its quoted name appears in shipped
 * source outside the table itself. A retired code is neither live nor documented as live.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** The text under a heading, up to the next heading of the same or a higher level. */
function section(doc: string, heading: string): string {
  const level = heading.match(/^#+/)![0].length;
  const start = doc.indexOf(`\n${heading}\n`);
  expect(start, `a "${heading}" section`).toBeGreaterThan(-1);
  const next = new RegExp(`\\n#{1,${level}} `, 'g');
  next.lastIndex = start + heading.length + 2;
  const end = next.exec(doc)?.index;
  return doc.slice(start, end);
}

/** Table rows of a section: the backticked code of the first cell, and the second cell. */
function rows(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [, code, second] of text.matchAll(/^\| `([a-z_.]+)` \| ([^|]+?) \|/gm)) {
    expect(out.has(code!), `${code} is listed twice`).toBe(false);
    out.set(code!, second!.trim());
  }
  return out;
}

const apiRows = rows(section(read('docs/api.md'), '## Errors'));
const streamRows = rows(section(read('docs/streaming.md'), '### Error codes'));
const table = Object.entries(ERROR_CODES) as [ErrorCode, (typeof ERROR_CODES)[ErrorCode]][];

/** Shipped sources (src of every package and plugin), without the table's own files. */
function shippedSources(): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name)) {
        const rel = relative(ROOT, path).split(sep).join('/');
        const isTable =
          rel.startsWith('packages/protocol/src/error-codes/') ||
          rel === 'packages/protocol/src/errors.ts' ||
          rel === 'packages/protocol/src/api/problem.ts';
        if (!isTable) out.push({ path: rel, text: readFileSync(path, 'utf8') });
      }
    }
  };
  for (const top of ['packages', 'plugins'])
    for (const pkg of readdirSync(join(ROOT, top), { withFileTypes: true }))
      if (pkg.isDirectory()) {
        const src = join(ROOT, top, pkg.name, 'src');
        try {
          walk(src);
        } catch {
          // a package without src
        }
      }
  return out;
}

describe('the error-code table', () => {
  it('documents every code: HTTP and library codes in docs/api.md, stream codes in docs/streaming.md', () => {
    expect(table.length).toBeGreaterThan(60);
    for (const [code, info] of table) {
      if (info.layer === 'stream') {
        expect(streamRows.get(code), `docs/streaming.md lists ${code}`).toBe(
          info.retryable ? 'yes' : 'no',
        );
      } else if (info.status !== undefined) {
        expect(apiRows.get(code), `docs/api.md lists ${code} with its status`).toBe(
          String(info.status),
        );
      } else {
        expect(apiRows.has(code), `docs/api.md lists the library code ${code}`).toBe(true);
      }
    }
  });

  it('has every code the documents list', () => {
    const documented = [...apiRows.keys(), ...streamRows.keys()];
    expect(documented.filter((code) => !(code in ERROR_CODES))).toEqual([]);
  });

  it('has no code that nothing produces', () => {
    const sources = shippedSources();
    expect(sources.length).toBeGreaterThan(200);
    const unproduced = table
      .map(([code]) => code)
      .filter((code) => !sources.some(({ text }) => text.includes(`'${code}'`)));
    expect(unproduced).toEqual([]);
  });

  it('names codes `area.what`, except the stream’s single words', () => {
    for (const [code, info] of table)
      expect(code, `${code} (${info.layer})`).toMatch(
        info.layer === 'stream' ? /^[a-z]+(_[a-z]+)*$/ : /^[a-z]+\.[a-z]+(_[a-z]+)*$/,
      );
  });

  it('keeps retired codes retired: not live in their layer, not listed as live', () => {
    for (const retired of RETIRED_ERROR_CODES) {
      const live = ERROR_CODES[retired.code as ErrorCode];
      expect(live?.layer, `${retired.code} is live again in ${retired.layer}`).not.toBe(
        retired.layer,
      );
      const rowsOfLayer = retired.layer === 'stream' ? streamRows : apiRows;
      expect(rowsOfLayer.has(retired.code), `${retired.code} is documented as live`).toBe(false);
      if (retired.replacedBy) expect(ERROR_CODES[retired.replacedBy]).toBeDefined();
    }
  });
});
