// @vitest-environment jsdom
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { compatibilityOf, PluginCard } from '../src/views/plugins.tsx';

afterEach(cleanup);

// As GET /v1/plugins answers for a built-in plugin the kit passed, and for an installed one.
const basics = {
  name: '@parley/plugin-basics',
  version: '0.1.0',
  contract: 1,
  description: 'Time, calculator, memory.',
  tier: 'core' as const,
  permissions: { network: [], secrets: [] },
  configurable: false,
  disabled: false,
  compatibility: { kit: 'pass' as const, testedCore: ['0.1.0'], testedOnThisCore: true },
};
const weather = {
  ...basics,
  name: '@acme/plugin-weather',
  contract: null,
  description: null,
  tier: 'community' as const,
  permissions: { network: ['api.weather.example'], secrets: ['WEATHER_KEY'] },
  disabled: true,
  compatibility: { kit: null, testedCore: [], testedOnThisCore: false },
};

describe('plugins view', () => {
  it('says what the compatibility kit found, on this core and elsewhere', () => {
    expect(compatibilityOf(basics)).toEqual({ text: 'kit passed on this core', tone: 'succeeded' });
    expect(compatibilityOf(weather)).toEqual({ text: 'not tested by the kit', tone: 'warning' });
    expect(
      compatibilityOf({
        ...basics,
        compatibility: { kit: 'pass', testedCore: ['0.0.9'], testedOnThisCore: false },
      }).text,
    ).toBe('tested on core 0.0.9 only');
    expect(
      compatibilityOf({ ...basics, compatibility: { ...basics.compatibility, kit: 'fail' } }).tone,
    ).toBe('failed');
  });

  it('shows tier, compatibility, the operator switch and the permissions of a plugin', () => {
    render(
      <ul>
        <PluginCard plugin={weather} />
      </ul>,
    );
    expect(screen.getByText('community').getAttribute('title')).toMatch(/out of process/);
    expect(screen.getByText('not tested by the kit')).toBeTruthy();
    expect(screen.getByText('disabled by the operator')).toBeTruthy();
    expect(screen.getByText(/Network: api\.weather\.example/).textContent).toMatch(
      /Secrets: WEATHER_KEY/,
    );
  });
});
