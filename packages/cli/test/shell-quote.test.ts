import { describe, expect, it } from 'vitest';
import { shellQuote } from '../src/shell-quote.ts';
import { shellWords } from './support/shell-words.ts';

/* Every printed command quotes its values: /bin/sh must read each back as the one word it was. */

describe('shellQuote', () => {
  it.each([
    'J A R V I S',
    "it's",
    "''",
    '$HOME',
    '`id`',
    '$(id)',
    'a;b',
    'a&&b',
    'a|b',
    '*.yaml',
    '~/agents',
    'line\nbreak',
    'tab\there',
    'back\\slash',
    '"double"',
    '!bang',
    'Élise ✨',
    '-dash',
    '',
  ])('%j reaches the shell as one word, unchanged', (value) => {
    expect(shellWords(`parley run hello --agent ${shellQuote(value)}`)).toEqual([
      'parley',
      'run',
      'hello',
      '--agent',
      value,
    ]);
  });

  it('leaves plain words alone, so the usual command reads as it always did', () => {
    for (const value of [
      'support-bot',
      'http://127.0.0.1:4000',
      'agents/ada.yaml',
      'OPENAI_API_KEY',
    ])
      expect(shellQuote(value)).toBe(value);
  });
});
