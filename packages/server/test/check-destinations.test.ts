import { defineAgent, type SecretDestinationPolicy } from '@parley/core';
import { describe, expect, it } from 'vitest';
import { checkSecretDestinations } from '../src/runs/secret-destinations.ts';

/*
 * The secret-destination rule is checked at every run; a definition that passed under a
 * policy is not parsed again under it, and a new policy (an operator changed the lists) checks
 * it afresh. The end-to-end refusals are in secret-destinations.test.ts.
 */

const agent = defineAgent({
  name: 'keyed',
  instructions: 'Answer.',
  model: {
    provider: 'openai',
    model: 'gpt-4.1-mini',
    baseURL: 'https://models.internal.example/v1',
    apiKeySecret: 'OPENAI_API_KEY',
  },
});

describe('checkSecretDestinations', () => {
  it('checks a definition once per policy, and a new policy afresh', () => {
    let reads = 0;
    const watched = new Proxy(agent, {
      get(target, key, receiver) {
        if (key === 'model') reads++;
        return Reflect.get(target, key, receiver);
      },
    });
    const open: SecretDestinationPolicy = {
      multiUser: false,
      modelHosts: ['models.internal.example'],
      mcpHosts: [],
    };
    checkSecretDestinations(watched, open);
    const once = reads;
    expect(once).toBeGreaterThan(0);
    checkSecretDestinations(watched, open);
    expect(reads).toBe(once);

    const strict: SecretDestinationPolicy = { multiUser: true, modelHosts: [], mcpHosts: [] };
    expect(() => checkSecretDestinations(watched, strict)).toThrow(
      expect.objectContaining({ code: 'agent.secret_destination' }),
    );
    expect(reads).toBeGreaterThan(once);
    // A refusal is never remembered as a pass.
    expect(() => checkSecretDestinations(watched, strict)).toThrow();
  });
});
