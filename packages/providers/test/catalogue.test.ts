import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_BASE_URLS,
  DEFAULT_KEY_SECRETS,
  PROVIDER_CATALOGUE,
  PROVIDER_NAMES,
  providerFacts,
} from '../src/index.ts';

// The provider catalogue is the one home of provider facts: the documentation's table and
// the derived columns say the same as it.
const doc = readFileSync(new URL('../../../docs/providers.md', import.meta.url), 'utf8');

describe('the provider catalogue', () => {
  it('has an entry for every provider createModel knows, and nothing else', () => {
    expect(Object.keys(PROVIDER_CATALOGUE).sort()).toEqual([...PROVIDER_NAMES].sort());
    expect(providerFacts('openai')?.keySecret).toBe('OPENAI_API_KEY');
    expect(providerFacts('toString')).toBeUndefined();
  });

  it('gives docs/providers.md its default base URLs', () => {
    for (const name of PROVIDER_NAMES) {
      const row = doc.match(new RegExp(`^\\| \`${name}\` \\| ([^|]+) \\|`, 'm'));
      expect(row, `docs/providers.md has a row for ${name}`).not.toBeNull();
      const url = row![1]!.match(/`(https?:[^`]+)`/)?.[1];
      expect(url, name).toBe(PROVIDER_CATALOGUE[name].baseURL);
    }
  });

  it('derives its columns from the entries', () => {
    expect(DEFAULT_KEY_SECRETS.anthropic).toBe(PROVIDER_CATALOGUE.anthropic.keySecret);
    expect(DEFAULT_BASE_URLS.openrouter).toBe(PROVIDER_CATALOGUE.openrouter.baseURL);
    for (const name of PROVIDER_NAMES)
      expect(PROVIDER_CATALOGUE[name].suggestedModels[0], name).toBe(
        PROVIDER_CATALOGUE[name].defaultModel,
      );
  });
});
