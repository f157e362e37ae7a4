import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LIMITS, REASONS } from '../src/index.ts';

/* docs/trust.md stays true: every reason code and its verdict, and the limits, are documented. */
const doc = readFileSync(new URL('../../../docs/trust.md', import.meta.url), 'utf8');
const section = doc.slice(doc.indexOf('## Scam-link guard'));

describe('docs/trust.md, section "Scam-link guard"', () => {
  it('lists every reason code with its verdict', () => {
    expect(section.length).toBeGreaterThan(100);
    for (const [code, { verdict }] of Object.entries(REASONS)) {
      const row = section
        .split('\n')
        .find((line) => line.startsWith('|') && line.includes(`\`${code}\``));
      expect(row, code).toBeDefined();
      if (!code.startsWith('lure.') || code.includes('_link'))
        expect(row, code).toContain(`| ${verdict} |`);
    }
  });

  it('states the limits the code enforces', () => {
    expect(section).toContain(`first ${LIMITS.maxTextChars.toLocaleString('en-US')} characters`);
    expect(section).toContain(
      `${LIMITS.maxUrlChars.toLocaleString('en-US')} characters of each URL`,
    );
    expect(section).toContain(`more than ${LIMITS.maxLinks} links`);
    expect(section).toContain(`the first\n${LIMITS.maxLinks} links assessed`);
  });
});
