import { describe, expect, it } from 'vitest';
import { createModel, ModelConfigError } from '../src/create-model.ts';
import { PROVIDER_NAMES } from '../src/model.ts';

describe('createModel', () => {
  it('makes every provider by name', () => {
    for (const provider of PROVIDER_NAMES) {
      const model = createModel({ provider, model: 'some-model', apiKey: 'k' });
      expect(model.provider).toBe(provider);
      expect(model.model).toBe('some-model');
      expect(typeof model.stream).toBe('function');
    }
  });

  it.each(['openai', 'openai-responses', 'anthropic', 'openrouter'] as const)(
    '%s needs an apiKey (never read from the environment)',
    (provider) => {
      expect(() => createModel({ provider, model: 'm' })).toThrow(ModelConfigError);
      expect(() => createModel({ provider, model: 'm' })).toThrow(/needs an apiKey/);
    },
  );

  it('openai-compatible works without a key; a baseURL must be a URL', () => {
    expect(createModel({ provider: 'openai-compatible', model: 'llama3.2' }).provider).toBe(
      'openai-compatible',
    );
    expect(() =>
      createModel({ provider: 'openai-compatible', model: 'm', baseURL: 'localhost:11434' }),
    ).toThrow(/not a URL/);
  });

  it('rejects nonsense limits', () => {
    expect(() =>
      createModel({ provider: 'openai', model: 'm', apiKey: 'k', timeoutMs: 0 }),
    ).toThrow(/timeoutMs/);
    expect(() =>
      createModel({ provider: 'openai', model: 'm', apiKey: 'k', maxRetries: -1 }),
    ).toThrow(/maxRetries/);
  });
});
