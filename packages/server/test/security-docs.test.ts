import { existsSync, globSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/*
 * The threat model and the audit name, for each control, the test that proves it
 * (`path/to/file.test.ts › test name`, then `› another name` in the same file). A renamed or
 * deleted test would leave a claim nobody checks: every reference must name a test file that
 * exists and a test title it contains.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DOCS = [
  'docs/security/threat-model.md',
  'docs/security/audit-2026-11.md',
  'docs/security/audit-2026-12.md',
];

const testFiles = globSync(
  [
    'packages/*/{src,test}/**/*.test.{ts,tsx}',
    'plugins/*/{src,test}/**/*.test.ts',
    'e2e/*.test.ts',
  ],
  { cwd: ROOT },
);

interface Reference {
  doc: string;
  line: number;
  file: string;
  title: string;
}

/**
 * Every `file › title` and `› title` in a document, with the file the latter continues (the
 * last one named, with a title or alone) in a table row, or in a paragraph (where a code span
 * may wrap onto the next line).
 */
function referencesIn(doc: string): Reference[] {
  const found: Reference[] = [];
  const lines = readFileSync(`${ROOT}${doc}`, 'utf8').split('\n');
  const blocks: { line: number; text: string }[] = [];
  let previous = '';
  lines.forEach((text, index) => {
    const paragraph = previous.trim() !== '' && !previous.startsWith('|') && !text.startsWith('|');
    if (text.trim() !== '' && paragraph) blocks.at(-1)!.text += ` ${text.trim()}`;
    else if (text.trim() !== '') blocks.push({ line: index + 1, text });
    previous = text;
  });
  for (const { line, text } of blocks) {
    let file: string | undefined;
    for (const [, span] of text.matchAll(/`([^`]+)`/g)) {
      // A test file named alone is the file the next `› title` continues.
      if (/^[\w./-]+\.test\.tsx?$/.test(span!)) file = span;
      if (!span!.includes('›')) continue;
      const [before, after] = span!.split('›').map((part) => part.trim()) as [string, string];
      if (before) file = before;
      if (file === 'file') continue; // the legend: `file › test`
      if (!file) throw new Error(`${doc}:${line}: "› ${after}" follows no file`);
      found.push({ doc, line, file, title: after });
    }
  }
  return found;
}

/** The repository test file a reference names: a path, or a bare file name that is unique. */
function resolve(file: string): string | undefined {
  if (file.includes('/')) return existsSync(`${ROOT}${file}`) ? file : undefined;
  const matches = testFiles.filter((path) => basename(path) === file);
  return matches.length === 1 ? matches[0] : undefined;
}

/** A title as its source writes it: `<what>` stands for a `${…}` in a template literal. */
function titlePattern(title: string): RegExp {
  const parts = title.split(/<[a-z]+>/i).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  // Quotes in titles are written either way in the sources (’ or \').
  return new RegExp(parts.join('\\$\\{[^}]+\\}').replace(/[’']/g, "(?:’|\\\\'|')"));
}

describe('security documents', () => {
  const references = DOCS.flatMap(referencesIn);

  it('quote tests, as many as the controls they prove', () => {
    expect(references.length).toBeGreaterThan(60);
  });

  it('name only test files that exist and titles those files contain', () => {
    const missing: string[] = [];
    for (const ref of references) {
      const path = resolve(ref.file);
      if (!path) {
        missing.push(`${ref.doc}:${ref.line}: no test file ${ref.file}`);
        continue;
      }
      if (!titlePattern(ref.title).test(readFileSync(`${ROOT}${path}`, 'utf8')))
        missing.push(`${ref.doc}:${ref.line}: ${path} has no test "${ref.title}"`);
    }
    expect(missing).toEqual([]);
  });

  it('would notice a renamed test', () => {
    expect(titlePattern('refuses a peer beyond loopback').test("it('refuses a peer beyond')")).toBe(
      false,
    );
    const template = ['it(`refuses $', '{what} with a message`'].join('');
    expect(titlePattern('refuses <what> with a message').test(template)).toBe(true);
    expect(resolve('no-such.test.ts')).toBeUndefined();
  });
});
