// @vitest-environment jsdom
import type { api } from '@parley/protocol';
import { cleanup, render, screen, within } from '@testing-library/react';
import { afterEach, expect, it } from 'vitest';
import { byDataset, DatasetTable } from '../src/views/agent-evals.tsx';

/*
 * Eval results per agent version side by side (docs/evals.md): the newest result of each
 * version of a dataset, oldest version on the left, a row per case.
 */

afterEach(cleanup);

const result = (
  id: string,
  versionLabel: string,
  scores: Record<string, number>,
  dataset = 'support',
): api.EvalResult => {
  const cases = Object.entries(scores).map(([caseId, score]) => ({
    id: caseId,
    input: 'q',
    tags: [],
    score,
    scores: [{ scorer: 'contains', score, ...(score < 1 ? { detail: `missed ${caseId}` } : {}) }],
    output: 'a',
    runId: null,
    durationMs: 1,
  }));
  const mean = cases.reduce((sum, c) => sum + c.score, 0) / cases.length;
  return {
    id,
    agentId: 'a',
    agentVersionId: null,
    versionLabel,
    dataset,
    caseCount: cases.length,
    meanScore: mean,
    cases,
    createdAt: '2026-12-07T00:00:00.000Z',
  };
};

it('shows the newest result of each version side by side, per dataset', () => {
  // Newest first, as the API lists them: v2 twice (the newer one counts), then v1.
  const columns = byDataset([
    result('r4', 'v2', { refund: 1, invoice: 0 }),
    result('r3', 'v2', { refund: 0, invoice: 0 }),
    result('r2', 'v1', { refund: 1, invoice: 1 }),
    result('r1', 'v1', { tone: 0.5 }, 'tone'),
  ]);
  expect(columns.map(([dataset, results]) => [dataset, results.map((r) => r.id)])).toEqual([
    ['support', ['r2', 'r4']],
    ['tone', ['r1']],
  ]);
  render(<DatasetTable dataset="support" columns={columns[0]![1]} />);
  const table = screen.getByRole('table', { name: /support/ });
  const header = within(table)
    .getAllByRole('columnheader')
    .map((h) => h.textContent);
  expect(header).toEqual(['Case', 'v1', 'v2']);
  const invoice = within(table).getByRole('rowheader', { name: 'invoice' }).closest('tr')!;
  const cells = within(invoice).getAllByRole('cell');
  expect(cells.map((c) => c.textContent)).toEqual(['1.00', '0.00']);
  expect(cells[1]!.title).toBe('missed invoice');
  const mean = within(table).getByRole('rowheader', { name: 'mean' }).closest('tr')!;
  expect(
    within(mean)
      .getAllByRole('cell')
      .map((c) => c.textContent),
  ).toEqual(['1.00', '0.50']);
});
