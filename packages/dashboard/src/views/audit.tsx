import { useState } from 'react';
import { useApi } from '../api/client.tsx';
import { useResource } from '../api/use-resource.ts';
import { useWorkspace } from '../api/workspace.tsx';
import { ErrorBanner } from '../components/error-banner.tsx';
import { formatJson } from '../components/format.ts';
import { Empty, Loading, PageHeading } from '../components/page.tsx';
import { Time } from '../components/time.tsx';

const PAGE = 100;

/** The audit log (filter by action) and security signals (filter by kind, open ones only). */
export function AuditView() {
  return (
    <section className="stack">
      <PageHeading title="Audit">Audit and security</PageHeading>
      <Signals />
      <AuditLog />
    </section>
  );
}

function AuditLog() {
  const api = useApi();
  const { workspace } = useWorkspace();
  const [action, setAction] = useState('');
  const [applied, setApplied] = useState('');
  const events = useResource(
    () => api.audit.list(workspace.id, { limit: PAGE, ...(applied ? { action: applied } : {}) }),
    [api, workspace.id, applied],
  );
  return (
    <section className="stack" aria-labelledby="audit-heading">
      <h2 id="audit-heading">Audit log</h2>
      <form
        className="filters"
        onSubmit={(event) => {
          event.preventDefault();
          setApplied(action.trim());
        }}
      >
        <label>
          Action{' '}
          <input
            value={action}
            list="audit-actions"
            placeholder="e.g. token.create"
            onChange={(event) => setAction(event.target.value)}
          />
        </label>
        <datalist id="audit-actions">
          {[...new Set(events.data?.map((e) => e.action))].map((a) => (
            <option key={a} value={a} />
          ))}
        </datalist>
        <button type="submit" className="button small">
          Filter
        </button>
        {applied ? (
          <button
            type="button"
            className="link-button"
            onClick={() => {
              setAction('');
              setApplied('');
            }}
          >
            Show all
          </button>
        ) : null}
      </form>
      {events.error ? (
        <ErrorBanner error={events.error} onRetry={() => void events.reload()} />
      ) : null}
      {events.loading && !events.data ? <Loading /> : null}
      {events.data?.length === 0 ? (
        <Empty>No audit events{applied ? ` for ${applied}` : ''}.</Empty>
      ) : null}
      {events.data && events.data.length > 0 ? (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Action</th>
                <th scope="col">Outcome</th>
                <th scope="col">Who</th>
                <th scope="col">Target</th>
                <th scope="col">From</th>
              </tr>
            </thead>
            <tbody>
              {events.data.map((e) => (
                <tr key={e.id}>
                  <td>
                    <Time iso={e.at} />
                  </td>
                  <td>
                    <code>{e.action}</code>
                  </td>
                  <td>
                    <span
                      className={
                        e.outcome === 'ok' ? 'badge badge-succeeded' : 'badge badge-failed'
                      }
                    >
                      {e.outcome}
                    </span>
                  </td>
                  <td className="small">
                    {e.actorType}
                    {e.actorId ? ` ${e.actorId.slice(0, 8)}` : ''}
                  </td>
                  <td className="small">
                    {e.targetType ?? '—'}
                    {e.targetId ? ` ${e.targetId.slice(0, 24)}` : ''}
                  </td>
                  <td className="small">{e.ip ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

function Signals() {
  const api = useApi();
  const { workspace } = useWorkspace();
  const [kind, setKind] = useState('');
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const signals = useResource(
    () =>
      api.audit.signals(workspace.id, {
        limit: PAGE,
        ...(kind ? { kind } : {}),
        ...(open ? { unacknowledged: true } : {}),
      }),
    [api, workspace.id, kind, open],
  );
  const all = useResource(
    () => api.audit.signals(workspace.id, { limit: PAGE }),
    [api, workspace.id],
  );
  const kinds = [...new Set(all.data?.map((s) => s.kind))].sort();
  const acknowledge = async (id: string) => {
    setError(undefined);
    try {
      await api.audit.acknowledge(workspace.id, id);
      await signals.reload();
    } catch (caught) {
      setError(caught);
    }
  };
  return (
    <section className="stack" aria-labelledby="signals-heading">
      <h2 id="signals-heading">Security signals</h2>
      <div className="filters">
        <label>
          Kind{' '}
          <select value={kind} onChange={(event) => setKind(event.target.value)}>
            <option value="">All kinds</option>
            {kinds.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </label>
        <label>
          <input
            type="checkbox"
            checked={open}
            onChange={(event) => setOpen(event.target.checked)}
          />{' '}
          Not acknowledged only
        </label>
      </div>
      {error ? <ErrorBanner error={error} /> : null}
      {signals.error ? (
        <ErrorBanner error={signals.error} onRetry={() => void signals.reload()} />
      ) : null}
      {signals.data?.length === 0 ? <Empty>No security signals. Good.</Empty> : null}
      <ul className="signals">
        {signals.data?.map((s) => (
          <li key={s.id} className="card" data-severity={s.severity}>
            <div className="card-head">
              <span className={`badge badge-${s.severity}`}>{s.severity}</span>
              <code>{s.kind}</code>
              <Time iso={s.at} />
              {s.ip ? <span className="muted small">from {s.ip}</span> : null}
              <span className="spacer" />
              {s.acknowledgedAt ? (
                <span className="muted small">acknowledged</span>
              ) : (
                <button
                  type="button"
                  className="button small"
                  onClick={() => void acknowledge(s.id)}
                >
                  Acknowledge
                </button>
              )}
            </div>
            <details>
              <summary>Details</summary>
              <pre>{formatJson(s.details)}</pre>
            </details>
          </li>
        ))}
      </ul>
    </section>
  );
}
