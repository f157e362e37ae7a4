import { type FormEvent, type ReactNode, useState } from 'react';
import { useApi } from '../api/client.tsx';
import { useResource } from '../api/use-resource.ts';
import { useWorkspace } from '../api/workspace.tsx';
import { ErrorBanner } from '../components/error-banner.tsx';
import { Field } from '../components/field.tsx';
import { Empty, Loading, PageHeading } from '../components/page.tsx';
import { Time } from '../components/time.tsx';

/*
 * Trust operations at a glance (docs/trust.md): the public page's state and the weekly status,
 * the support SLA (first response, share within SLA, backlog by age band, breaches), scam-guard
 * verdicts and the questions people keep asking. Edits of the page itself go through the API
 * or `parley trust`; this view posts the weekly status, the one thing done every week.
 */

function Stat({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

const hours = (seconds: number | null) =>
  seconds === null ? '—' : `${(seconds / 3600).toFixed(1)} h`;
const percent = (ratio: number | null) => (ratio === null ? '—' : `${Math.round(ratio * 100)}%`);

export function TrustView() {
  const api = useApi();
  const { workspace, can } = useWorkspace();
  const page = useResource(() => api.trust.get(workspace.id), [api, workspace.id]);
  const metrics = useResource(() => api.trust.metrics(workspace.id), [api, workspace.id]);
  const tickets = useResource(
    () => api.support.list(workspace.id, { status: 'active', limit: 50 }),
    [api, workspace.id],
  );
  const [status, setStatus] = useState('');
  const [error, setError] = useState<unknown>(undefined);

  const post = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    try {
      await api.trust.postStatus(workspace.id, status.trim());
      setStatus('');
      await page.reload();
    } catch (caught) {
      setError(caught);
    }
  };

  const draft = page.data;
  const m = metrics.data;
  return (
    <section className="stack">
      <PageHeading title="Trust">Trust</PageHeading>
      {error ? <ErrorBanner error={error} /> : null}
      {page.error ? <ErrorBanner error={page.error} onRetry={() => void page.reload()} /> : null}
      {page.loading && !draft ? <Loading /> : null}
      {draft ? (
        <>
          <p>
            {draft.page.published && draft.page.slug ? (
              <>
                Published at <a href={`/trust/${draft.page.slug}`}>/trust/{draft.page.slug}</a>
              </>
            ) : (
              'Not published'
            )}{' '}
            · version {draft.page.version} · edited <Time iso={draft.page.updatedAt} />
          </p>
          <p>
            Canonical migration link:{' '}
            {draft.page.content.canonicalMigrationLink ? (
              <code>{draft.page.content.canonicalMigrationLink}</code>
            ) : (
              'none'
            )}
          </p>
          {draft.statusOverdue ? (
            <p role="alert" className="banner banner-warn">
              The weekly status update is overdue: the public page shows a warning.
            </p>
          ) : null}
          {can('workspace:manage') ? (
            <form onSubmit={post} className="stack">
              <Field label="Weekly status update">
                {(props) => (
                  <textarea
                    {...props}
                    value={status}
                    onChange={(event) => setStatus(event.target.value)}
                    required
                    maxLength={10_000}
                  />
                )}
              </Field>
              <button type="submit" className="button" disabled={!status.trim()}>
                Post the update
              </button>
            </form>
          ) : null}
        </>
      ) : null}

      <h2>Support SLA (last 30 days)</h2>
      {metrics.error ? (
        <ErrorBanner error={metrics.error} onRetry={() => void metrics.reload()} />
      ) : null}
      {m ? (
        <dl className="stats">
          <Stat label="First response p50 / p90">
            {hours(m.support.firstResponse.p50Seconds)} /{' '}
            {hours(m.support.firstResponse.p90Seconds)}
          </Stat>
          <Stat label="Within SLA">{percent(m.support.firstResponse.withinSlaRatio)}</Stat>
          <Stat label="Breaches">{m.support.firstResponse.breached}</Stat>
          <Stat label="Open tickets">{m.support.backlog.open}</Stat>
          <Stat label="Oldest open">
            {m.support.backlog.oldest ? hours(m.support.backlog.oldest.ageSeconds) : '—'}
          </Stat>
          <Stat label="Reopen rate">{percent(m.support.reopen.ratio)}</Stat>
        </dl>
      ) : null}
      {m ? (
        <p>
          Open tickets by age:{' '}
          {Object.entries(m.support.backlog.byAgeBand)
            .map(([band, n]) => `${band}: ${n}`)
            .join(' · ')}
          . Scam-guard verdicts:{' '}
          {m.scamVerdictsPerDay.length === 0
            ? 'none'
            : m.scamVerdictsPerDay
                .map((d) => `${d.day}: ${d.warned} warned, ${d.blocked} blocked`)
                .join(' · ')}
          .
        </p>
      ) : null}

      <h2>Repeated questions</h2>
      {m && m.repeatedQuestions.length === 0 ? <Empty>No question came up twice.</Empty> : null}
      {m && m.repeatedQuestions.length > 0 ? (
        <ol>
          {m.repeatedQuestions.map((q) => (
            <li key={q.terms.join(' ')}>
              {q.count}× ({q.tickets} tickets): “{q.example}”
            </li>
          ))}
        </ol>
      ) : null}

      <h2>Open tickets</h2>
      {tickets.data?.length === 0 ? <Empty>No open tickets.</Empty> : null}
      {tickets.data && tickets.data.length > 0 ? (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Subject</th>
                <th scope="col">Status</th>
                <th scope="col">Channel</th>
                <th scope="col">Opened</th>
                <th scope="col">First response due</th>
              </tr>
            </thead>
            <tbody>
              {tickets.data.map((t) => (
                <tr key={t.id}>
                  <th scope="row">{t.subject}</th>
                  <td>{t.slaBreachedAt ? `${t.status} (SLA breached)` : t.status}</td>
                  <td>{t.channel}</td>
                  <td>
                    <Time iso={t.createdAt} />
                  </td>
                  <td>
                    {t.firstRespondedAt ? (
                      'answered'
                    ) : t.firstResponseDueAt ? (
                      <Time iso={t.firstResponseDueAt} />
                    ) : (
                      'paused'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
