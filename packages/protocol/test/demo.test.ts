import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('npm run demo (protocol demo)', () => {
  it('plays the example run, reports conformance and prints no stack trace', () => {
    const demo = new URL('../demo/stream-demo.ts', import.meta.url).pathname;
    const result = spawnSync(process.execPath, [demo], { encoding: 'utf8', timeout: 20_000 });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('It is 14 °C and cloudy in Paris.');
    expect(result.stdout).toContain('→ tool call get_weather({"city":"Paris"})');
    expect(result.stdout).toContain('conformance: all Parley Stream v1 invariants hold');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('prints raw SSE frames with --raw', () => {
    const demo = new URL('../demo/stream-demo.ts', import.meta.url).pathname;
    const result = spawnSync(process.execPath, [demo, '--raw'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('id: 1\nevent: run.start\ndata: {"v":1,"seq":1');
  });
});
