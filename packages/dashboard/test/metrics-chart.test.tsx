// @vitest-environment jsdom
import type { UsageSeries } from '@parley/client';
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { BarChart, LineChart } from '../src/views/chart.tsx';
import { runBars, ttftSeries } from '../src/views/metrics.tsx';

afterEach(cleanup);

// Two hours of two models, as GET …/usage/series answers (one point per hour and model).
const series: UsageSeries = {
  since: '2026-11-24T10:00:00.000Z',
  bucket: 'hour',
  points: [
    {
      at: '2026-11-24T10:00:00.000Z',
      provider: 'openai',
      model: 'gpt-4.1-mini',
      runs: 4,
      failed: 1,
      cancelled: 0,
      ttftCount: 3,
      ttftP50: 300,
      ttftP95: 900,
      outputTokens: 80,
    },
    {
      at: '2026-11-24T11:00:00.000Z',
      provider: 'openai',
      model: 'gpt-4.1-mini',
      runs: 2,
      failed: 0,
      cancelled: 1,
      ttftCount: 2,
      ttftP50: 250,
      ttftP95: 400,
      outputTokens: 40,
    },
    {
      at: '2026-11-24T10:00:00.000Z',
      provider: 'scripted',
      model: 'demo',
      runs: 3,
      failed: 0,
      cancelled: 0,
      ttftCount: 0,
      ttftP50: null,
      ttftP95: null,
      outputTokens: 9,
    },
  ],
};

describe('the metrics charts', () => {
  it('draws p50 and p95 per provider and model, skipping buckets without a TTFT', () => {
    const lines = ttftSeries(series);
    expect(lines.map((l) => [l.label, l.points.length, l.dashed ?? false])).toEqual([
      ['openai · gpt-4.1-mini p50', 2, false],
      ['openai · gpt-4.1-mini p95', 2, true],
      ['scripted · demo p50', 0, false],
      ['scripted · demo p95', 0, true],
    ]);
    const view = render(
      <LineChart
        title="TTFT"
        series={lines}
        format={(v) => `${v} ms`}
        formatTime={(t) => new Date(t).toISOString().slice(11, 16)}
      />,
    );
    expect(screen.getByRole('img', { name: 'TTFT' })).toBeTruthy();
    const polylines = view.container.querySelectorAll('polyline');
    expect(polylines).toHaveLength(4);
    // The highest value (900 ms) sits below the top of the axis (1000 ms), the lowest above 0.
    expect(screen.getByText('1000 ms')).toBeTruthy();
    expect(view.container.querySelector('title')?.textContent).toBe(
      'openai · gpt-4.1-mini p50: 300 ms at 10:00',
    );
    expect(screen.getByText('10:00')).toBeTruthy();
    expect(screen.getByText('11:00')).toBeTruthy();
  });

  it('stacks runs that finished and runs that failed or were cancelled, per bucket', () => {
    const bars = runBars(series);
    expect(bars).toEqual([
      { at: Date.parse('2026-11-24T10:00:00.000Z'), ok: 6, failed: 1 },
      { at: Date.parse('2026-11-24T11:00:00.000Z'), ok: 1, failed: 1 },
    ]);
    const view = render(<BarChart title="Runs" bars={bars} formatTime={(t) => String(t)} />);
    expect(view.container.querySelectorAll('rect.bar-ok')).toHaveLength(2);
    expect(view.container.querySelectorAll('rect.bar-failed')).toHaveLength(2);
    // Whole-number ticks: 0, 2, 4, 6, 8 for a tallest bar of 7.
    for (const tick of ['0', '2', '4', '6', '8']) expect(screen.getByText(tick)).toBeTruthy();
  });
});
