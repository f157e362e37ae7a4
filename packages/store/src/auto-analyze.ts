import type { StatisticsTable } from './scope.ts';

/*
 * PGlite runs no autovacuum, so the planner's statistics of a table are those of its last
 * ANALYZE, if any: a knowledge base filled after start-up looks empty, and the planner sorts
 * every chunk by distance instead of walking the HNSW index (546 ms p50 at 10,000 chunks,
 * against 5 ms with statistics; docs/performance.md, "Knowledge"). This is autovacuum's
 * analyze rule for the tables whose queries depend on it: ANALYZE once the rows written since
 * the last one exceed 50 + 10 % of the table.
 */

const BASE_THRESHOLD = 50;
const SCALE_FACTOR = 0.1;

type AdminQuery = <R>(text: string, params?: unknown[]) => Promise<R[]>;

export function autoAnalyze(adminQuery: AdminQuery) {
  /** Rows written since the table's last ANALYZE here, and its size then. */
  const tables = new Map<StatisticsTable, { written: number; rows: number }>();
  let running = Promise.resolve();

  const analyze = async (table: StatisticsTable) => {
    await adminQuery(`analyze ${table}`);
    const [row] = await adminQuery<{ rows: number }>(
      'select greatest(reltuples, 0)::float8 as rows from pg_class where oid = $1::regclass',
      [table],
    );
    tables.set(table, { written: 0, rows: Number(row?.rows ?? 0) });
  };

  return {
    /** Counts the writes and analyzes the tables past the threshold, one ANALYZE at a time. */
    afterWrites(writes: ReadonlyMap<StatisticsTable, number>): Promise<void> {
      const due: StatisticsTable[] = [];
      for (const [table, rows] of writes) {
        const state = tables.get(table) ?? { written: 0, rows: 0 };
        state.written += rows;
        tables.set(table, state);
        if (state.written > BASE_THRESHOLD + SCALE_FACTOR * state.rows) due.push(table);
      }
      if (due.length === 0) return running;
      // Statistics only steer plans: a failed ANALYZE (the store closing) never fails the
      // write that was already committed; the next writes try again.
      running = running.then(async () => {
        for (const table of due) await analyze(table).catch(() => {});
      });
      return running;
    },
  };
}
