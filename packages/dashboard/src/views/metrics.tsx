import type { UsageSeries } from '@parley/client';
import { ParleyApiError } from '@parley/client';
import { type FormEvent, useState } from 'react';
import { useApi } from '../api/client.tsx';
import { useResource } from '../api/use-resource.ts';
import { useWorkspace } from '../api/workspace.tsx';
import { ErrorBanner } from '../components/error-banner.tsx';
import { Field } from '../components/field.tsx';
import { formatCount, formatMs, formatUsd } from '../components/format.ts';
import { Empty, Loading, PageHeading } from '../components/page.tsx';
import { BarChart, LineChart, type LineSeries } from './chart.tsx';

const RANGES = [
  { id: '24h', label: 'Last 24 hours', ms: 86_400_000, bucket: 'hour' },
  { id: '7d', label: 'Last 7 days', ms: 7 * 86_400_000, bucket: 'day' },
  { id: '30d', label: 'Last 30 days', ms: 30 * 86_400_000, bucket: 'day' },
] as const;

const COLORS = ['#2563eb', '#c2410c', '#15803d', '#7c3aed', '#b91c1c', '#0e7490'];

const FUNNEL_LABELS: Record<string, string> = {
  signup: 'Signed up',
  agent_created: 'Created an agent',
  provider_selected: 'Chose a provider',
  first_run: 'Ran it',
  deployed: 'Deployed',
};

/** TTFT p50/p95 by provider and model, runs and errors, and (operators) the activation funnel. */
export function MetricsView() {
  const [rangeId, setRangeId] = useState<(typeof RANGES)[number]['id']>('24h');
  const range = RANGES.find((r) => r.id === rangeId)!;
  return (
    <section className="stack">
      <div className="page-head">
        <PageHeading title="Metrics">Metrics</PageHeading>
        <label>
          <span className="visually-hidden">Period</span>
          <select
            value={rangeId}
            onChange={(event) => setRangeId(event.target.value as typeof rangeId)}
          >
            {RANGES.map((r) => (
              <option key={r.id} value={r.id}>
                {r.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <Usage range={range} />
      <Funnel />
    </section>
  );
}

function Usage({ range }: { range: (typeof RANGES)[number] }) {
  const api = useApi();
  const { workspace } = useWorkspace();
  const data = useResource(async () => {
    const since = new Date(Date.now() - range.ms).toISOString();
    const [summary, series] = await Promise.all([
      api.audit.usage(workspace.id, { since }),
      api.audit.usageSeries(workspace.id, { since, bucket: range.bucket }),
    ]);
    return { summary, series };
  }, [api, workspace.id, range.id]);
  if (data.error) return <ErrorBanner error={data.error} onRetry={() => void data.reload()} />;
  if (!data.data) return <Loading />;
  const { summary, series } = data.data;
  const failed = (summary.runs.byStatus.failed ?? 0) + (summary.runs.byStatus.cancelled ?? 0);
  const formatTime = (t: number) =>
    new Date(t).toLocaleString(
      'en-GB',
      range.bucket === 'hour'
        ? { hour: '2-digit', minute: '2-digit' }
        : { day: 'numeric', month: 'short' },
    );
  return (
    <>
      <dl className="stats">
        <div>
          <dt>Runs</dt>
          <dd data-testid="runs-total">{formatCount(summary.runs.total)}</dd>
        </div>
        <div>
          <dt>Failed or cancelled</dt>
          <dd>{formatCount(failed)}</dd>
        </div>
        <div>
          <dt>Tokens in / out</dt>
          <dd>
            {formatCount(summary.tokens.input)} / {formatCount(summary.tokens.output)}
          </dd>
        </div>
        <div>
          <dt>Cost</dt>
          <dd>{formatUsd(summary.costUsd)}</dd>
        </div>
      </dl>
      <h2>Time to first token</h2>
      {series.points.length === 0 ? (
        <Empty>No runs in this period yet.</Empty>
      ) : (
        <>
          <LineChart
            title={`Time to first token, p50 and p95, by provider and model, ${range.label.toLowerCase()}`}
            series={ttftSeries(series)}
            format={formatMs}
            formatTime={formatTime}
          />
          <h2>Runs and errors</h2>
          <BarChart
            title={`Runs per ${range.bucket}, finished and failed`}
            bars={runBars(series)}
            formatTime={formatTime}
          />
        </>
      )}
      {summary.ttft.length > 0 ? (
        <div className="table-wrap">
          <table>
            <caption>TTFT by provider and model over the period</caption>
            <thead>
              <tr>
                <th scope="col">Provider · model</th>
                <th scope="col">Runs</th>
                <th scope="col">p50</th>
                <th scope="col">p95</th>
              </tr>
            </thead>
            <tbody>
              {summary.ttft.map((t) => (
                <tr key={`${t.provider}/${t.model}`}>
                  <td>
                    {t.provider} · {t.model}
                  </td>
                  <td>{formatCount(t.count)}</td>
                  <td>{formatMs(t.p50)}</td>
                  <td>{formatMs(t.p95)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}

export function ttftSeries(series: UsageSeries): LineSeries[] {
  const byModel = new Map<string, UsageSeries['points']>();
  for (const p of series.points) {
    const key = `${p.provider} · ${p.model}`;
    byModel.set(key, [...(byModel.get(key) ?? []), p]);
  }
  return [...byModel.entries()].flatMap(([key, points], i) => {
    const color = COLORS[i % COLORS.length]!;
    const pick = (field: 'ttftP50' | 'ttftP95') =>
      points.flatMap((p) =>
        p[field] === null ? [] : [{ at: Date.parse(p.at), value: p[field]! }],
      );
    return [
      { label: `${key} p50`, color, points: pick('ttftP50') },
      { label: `${key} p95`, color, dashed: true, points: pick('ttftP95') },
    ];
  });
}

export function runBars(series: UsageSeries) {
  const byTime = new Map<number, { at: number; ok: number; failed: number }>();
  for (const p of series.points) {
    const at = Date.parse(p.at);
    const bar = byTime.get(at) ?? { at, ok: 0, failed: 0 };
    bar.failed += p.failed + p.cancelled;
    bar.ok += p.runs - p.failed - p.cancelled;
    byTime.set(at, bar);
  }
  return [...byTime.values()].sort((a, b) => a.at - b.at);
}

/**
 * A listed address is not enough to be an operator: the person redeems the one-time code the
 * server printed in its log (or its PARLEY_OPERATOR_CODE) once.
 */
function ConfirmOperator({ onConfirmed }: { onConfirmed: () => void }) {
  const api = useApi();
  const [code, setCode] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const confirm = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    try {
      await api.auth.confirmOperator({ code: code.trim() });
      setCode('');
      onConfirmed();
    } catch (caught) {
      setError(caught);
    }
  };
  return (
    <form className="card row-form" onSubmit={confirm} aria-label="Confirm an operator">
      <Field
        label="Operator code"
        hint="Listed in PARLEY_OPERATOR_EMAILS? Enter the code from the server log once."
      >
        {(props) => (
          <input
            {...props}
            value={code}
            required
            autoComplete="off"
            onChange={(event) => setCode(event.target.value)}
          />
        )}
      </Field>
      <button type="submit" className="button">
        Confirm
      </button>
      {error ? <ErrorBanner error={error} /> : null}
    </form>
  );
}

function Funnel() {
  const api = useApi();
  const funnel = useResource(() => api.instance.funnel(), [api]);
  if (funnel.error instanceof ParleyApiError && funnel.error.status === 403)
    return (
      <>
        <p className="muted">
          The activation funnel is for the server’s operators (<code>PARLEY_OPERATOR_EMAILS</code>,
          confirmed with the one-time operator code).
        </p>
        <ConfirmOperator onConfirmed={() => void funnel.reload()} />
      </>
    );
  if (funnel.error)
    return <ErrorBanner error={funnel.error} onRetry={() => void funnel.reload()} />;
  if (!funnel.data) return <Loading />;
  const { steps, activation } = funnel.data;
  const top = Math.max(1, ...steps.map((s) => s.users || s.events));
  return (
    <section className="stack" aria-labelledby="funnel-heading">
      <h2 id="funnel-heading">Activation funnel (whole server)</h2>
      <ol className="funnel">
        {steps.map((s) => {
          const count = s.users || s.events;
          return (
            <li key={s.step}>
              <span className="funnel-label">{FUNNEL_LABELS[s.step] ?? s.step}</span>
              <span className="funnel-bar" aria-hidden="true">
                <span style={{ width: `${(count / top) * 100}%` }} />
              </span>
              <span className="funnel-count" data-testid={`funnel-${s.step}`}>
                {formatCount(count)}
              </span>
            </li>
          );
        })}
      </ol>
      <p>
        Agents created per new login:{' '}
        <strong data-testid="agents-per-login">
          {activation.agentsPerNewUser === null ? '—' : activation.agentsPerNewUser.toFixed(2)}
        </strong>{' '}
        <span className="muted">
          ({formatCount(activation.agentsCreated)} agents by {formatCount(activation.newUsers)} new
          people; {formatCount(activation.usersWithAgent)} created at least one)
        </span>
      </p>
    </section>
  );
}
