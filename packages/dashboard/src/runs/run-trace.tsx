import type { ParleyEvent } from '@parley/protocol';
import { useApi } from '../api/client.tsx';
import { useResource } from '../api/use-resource.ts';
import { useWorkspace } from '../api/workspace.tsx';
import { CopyButton } from '../components/copy-button.tsx';
import { ErrorBanner } from '../components/error-banner.tsx';
import { formatMs } from '../components/format.ts';
import { Loading, PageHeading } from '../components/page.tsx';
import { Link } from '../router.tsx';
import { type Trace, type TraceRow, traceOf } from './trace.ts';

/** `/runs/:runId`: the run's waterfall, from its stored events (followed to its end if live). */
export function RunTraceView({ runId }: { runId: string }) {
  const api = useApi();
  const { workspace } = useWorkspace();
  const run = useResource(() => api.runs.get(runId), [api, runId]);
  const agents = useResource(() => api.agents.list(workspace.id), [api, workspace.id]);
  const agent = agents.data?.find((a) => a.id === run.data?.agentId);
  const events = useResource(async () => {
    const all: ParleyEvent[] = [];
    for await (const event of api.runs.follow(runId)) all.push(event);
    return all;
  }, [api, runId]);
  const trace = events.data ? traceOf(events.data) : undefined;
  return (
    <section className="stack">
      <PageHeading title="Run trace">Run trace</PageHeading>
      <p>
        <Link to="/runs">All runs</Link>
        {agent && run.data?.conversationId ? (
          <>
            {' · '}
            <Link to={`/chat/${encodeURIComponent(agent.name)}?c=${run.data.conversationId}`}>
              Its chat
            </Link>
          </>
        ) : null}
      </p>
      <ErrorBanner error={run.error ?? events.error} />
      {trace ? <Waterfall trace={trace} /> : <Loading label="Reading the run…" />}
    </section>
  );
}

export function Waterfall({ trace }: { trace: Trace }) {
  const total = Math.max(trace.totalMs, 1);
  const percent = (ms: number) => `${((100 * ms) / total).toFixed(2)}%`;
  return (
    <>
      <dl className="trace-summary">
        <div>
          <dt>Total</dt>
          <dd data-testid="trace-total">{formatMs(trace.totalMs)}</dd>
        </div>
        <div>
          <dt>Time to first token</dt>
          <dd data-testid="trace-ttft">{formatMs(trace.ttftMs)}</dd>
        </div>
        <div>
          <dt>Model</dt>
          <dd data-testid="trace-model">{formatMs(trace.modelMs)}</dd>
        </div>
        <div>
          <dt>Tools</dt>
          <dd data-testid="trace-tools">{formatMs(trace.toolMs)}</dd>
        </div>
        <div>
          <dt>Waiting for approval</dt>
          <dd data-testid="trace-wait">{formatMs(trace.waitMs)}</dd>
        </div>
      </dl>
      {trace.traceId ? (
        <p>
          Trace id <code data-testid="trace-id">{trace.traceId}</code>{' '}
          <CopyButton text={trace.traceId} label="Copy trace id" />
        </p>
      ) : null}
      <ol className="waterfall" aria-label="Waterfall">
        {trace.rows.map((row) => (
          <li key={row.key} className="waterfall-row" data-kind={row.kind} data-failed={row.failed}>
            <span className="waterfall-label">{row.label}</span>
            <span className="waterfall-track">
              <span
                className="waterfall-bar"
                style={{ left: percent(row.startMs), width: percent(duration(row, trace)) }}
              />
            </span>
            <span className="waterfall-time">
              {row.endMs === undefined ? 'still going' : formatMs(row.endMs - row.startMs)}
              {row.detail ? ` · ${row.detail}` : ''}
            </span>
          </li>
        ))}
      </ol>
    </>
  );
}

/** A row still going runs to the end of what is known. */
const duration = (row: TraceRow, trace: Trace) => (row.endMs ?? trace.totalMs) - row.startMs;
