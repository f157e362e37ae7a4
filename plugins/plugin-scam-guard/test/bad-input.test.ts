import { describe, expect, it } from 'vitest';
import {
  type Assessment,
  createAssessor,
  editDistance,
  LIMITS,
  parseGuardConfig,
  skeleton,
} from '../src/index.ts';
import { CORPUS_CONFIG } from './corpus.ts';

/*
 * Hostile input: the guard must end with a verdict and never throw, and its work must stay
 * within the limits it exposes (characters read, links assessed). No timings are asserted:
 * the bounds are checked on the work counters.
 */

const assess = createAssessor(parseGuardConfig(CORPUS_CONFIG));
const VERDICTS = ['allow', 'warn', 'block'];

function bounded(assessment: Assessment) {
  expect(VERDICTS).toContain(assessment.verdict);
  expect(assessment.work.charsScanned).toBeLessThanOrEqual(LIMITS.maxTextChars);
  expect(assessment.work.linksAssessed).toBeLessThanOrEqual(LIMITS.maxLinks);
  expect(assessment.links.length).toBe(assessment.work.linksAssessed);
  for (const link of assessment.links) expect(link.url.length).toBeLessThanOrEqual(300);
  return assessment;
}

describe('many links', () => {
  it('assesses the first links of a message with 10,000, counts them all, and warns', () => {
    const text = Array.from({ length: 10_000 }, (_, i) => `s${i}.io`).join(' ');
    expect(text.length).toBeLessThan(LIMITS.maxTextChars);
    const result = bounded(assess(text));
    expect(result.work.linksFound).toBe(10_000);
    expect(result.work.linksAssessed).toBe(LIMITS.maxLinks);
    expect(result.verdict).toBe('warn');
    expect(result.reasons).toContain('message.too_many_links');
  });

  it('reads only the first characters of an oversized message of 10,000 lookalike links', () => {
    const text = Array.from({ length: 10_000 }, (_, i) => `https://parley-claim${i}.com/x`).join(
      ' ',
    );
    expect(text.length).toBeGreaterThan(LIMITS.maxTextChars);
    const result = bounded(assess(text));
    expect(result.work.charsScanned).toBe(LIMITS.maxTextChars);
    expect(result.verdict).toBe('warn');
    expect(result.links[0]!.reasons).toEqual(['lookalike.brand_embedded']);
    expect(result.reasons).toEqual(
      expect.arrayContaining(['message.truncated', 'message.too_many_links']),
    );
  });

  it('handles 10,000 markdown links and anchors the same way', () => {
    const markdown = '[parley.dev](https://evil.example/x) '.repeat(10_000);
    const anchors = '<a href="https://evil.example">parley.dev</a>'.repeat(10_000);
    for (const text of [markdown, anchors]) {
      const result = bounded(assess(text));
      expect(result.verdict).toBe('block');
      expect(result.links[0]!.reasons).toContain('link_text.hides_target');
    }
  });
});

describe('oversized and malformed URLs', () => {
  const cases: [string, string, string | undefined][] = [
    ['a 50,000-character path', `https://evil.example/${'x'.repeat(50_000)}`, 'url.oversized'],
    ['a 5,000-character host', `https://${'a'.repeat(5_000)}.com/`, 'url.oversized'],
    ['a bad percent escape', 'http://%zz/', 'url.malformed'],
    ['an unclosed IPv6 literal', 'https://[::1/x', 'url.malformed'],
    ['an empty host', 'https:// /x', undefined],
    ['dots only', 'http://../', undefined],
    ['an empty markdown target', '[parley.dev]( )', undefined],
    ['an empty anchor', '<a href="">parley.dev</a>', undefined],
    ['a bare scheme', 'javascript:', undefined],
    ['nested brackets', `${'('.repeat(5_000)}https://a.example/${')'.repeat(5_000)}`, undefined],
    ['a NUL and controls', 'https://evil\u0000.example/\u0007', undefined],
    ['a port out of range', 'https://evil.example:99999/', 'url.malformed'],
    ['a huge user name', `https://${'u'.repeat(10_000)}@evil.example/`, 'url.oversized'],
  ];
  for (const [name, text, reason] of cases) {
    it(`gives a verdict for ${name}`, () => {
      const result = bounded(assess(`look: ${text} ok`));
      if (reason) expect(result.reasons).toContain(reason);
    });
  }
});

describe('homoglyph-only and pathological strings', () => {
  const strings: [string, string][] = [
    ['Cyrillic lookalike words', 'раураӏ ѕсаm аррӏе '.repeat(5_000)],
    ['zero-width characters', '\u200b\u200c\u200d\ufeff'.repeat(20_000)],
    ['bidi overrides', 'invoice\u202egpj.exe '.repeat(5_000)],
    ['combining marks', `p${'\u0301'.repeat(50_000)}arley.dev`],
    ['dots', '.'.repeat(100_000)],
    ['labels without a suffix', 'a.'.repeat(60_000)],
    ['anchor openings', '<a '.repeat(40_000)],
    ['markdown openings', '[x]('.repeat(30_000)],
    ['hyphens', `${'-'.repeat(90_000)}.com`],
    ['astral symbols', '𝐩𝐚𝐫𝐥𝐞𝐲.𝐝𝐞𝐯 '.repeat(3_000)],
  ];
  for (const [name, text] of strings) {
    it(`gives a verdict for ${name}`, () => {
      bounded(assess(text));
    });
  }

  it('keeps skeleton and edit distance bounded on long input', () => {
    expect(skeleton('а'.repeat(1_000_000)).length).toBeLessThanOrEqual(253);
    expect(editDistance('a'.repeat(100_000), 'b'.repeat(100_000), 2)).toBe(3);
  });

  it('never throws on random URL-shaped text (seeded)', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const alphabet = 'ab.-/:@[]()<>"\' %#?hptsw01аοрI\u200b\u202e。xn-';
    for (let i = 0; i < 500; i++) {
      let text = '';
      const length = Math.floor(random() * 200);
      for (let j = 0; j < length; j++) text += alphabet[Math.floor(random() * alphabet.length)];
      bounded(assess(`https://${text} ${text}`));
    }
  });
});
