import { describe, expect, it } from 'vitest';
import { PluginCompatibilityError } from '../src/errors.ts';
import { assertCompatible } from '../src/plugins/compatibility.ts';
import type { PluginDefinition } from '../src/plugins/define-plugin.ts';

/** A plugin definition that counts how often its core range is read. */
function counted(core: string) {
  const reads = { core: 0 };
  const definition = new Proxy(
    { name: '@acme/plugin-demo', version: '1.2.0', contract: 1, core, tools: [] },
    {
      get(target, key, receiver) {
        if (key === 'core') reads.core++;
        return Reflect.get(target, key, receiver);
      },
    },
  ) as unknown as PluginDefinition;
  return { definition, reads };
}

describe('assertCompatible', () => {
  it('checks a definition once per core version (every run registers its plugins again)', () => {
    const { definition, reads } = counted('^0.1.0');
    assertCompatible(definition, '0.1.0');
    const once = reads.core;
    expect(once).toBeGreaterThan(0);
    assertCompatible(definition, '0.1.0');
    assertCompatible(definition, '0.1.0');
    expect(reads.core).toBe(once);
    // Another core is checked afresh, and refused when out of range.
    expect(() => assertCompatible(definition, '0.2.0')).toThrow(PluginCompatibilityError);
    expect(reads.core).toBeGreaterThan(once);
  });

  it('keeps refusing a definition it refused', () => {
    const { definition } = counted('*');
    expect(() => assertCompatible(definition, '0.1.0')).toThrow(/no upper bound/);
    expect(() => assertCompatible(definition, '0.1.0')).toThrow(/no upper bound/);
  });
});
