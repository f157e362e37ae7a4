import type { Agent } from '@parley/client';
import { useState } from 'react';
import { useApi } from '../api/client.tsx';
import { useResource } from '../api/use-resource.ts';
import { useWorkspace } from '../api/workspace.tsx';
import { ErrorBanner } from '../components/error-banner.tsx';
import { Empty, Loading, PageHeading } from '../components/page.tsx';
import { Time } from '../components/time.tsx';
import { RecallNote } from '../knowledge/recall-note.tsx';
import { Link } from '../router.tsx';
import { AgentEvals } from './agent-evals.tsx';

/** The workspace's agents, their deployed version and draft, and each one's versions. */
export function AgentsView() {
  const api = useApi();
  const { workspace, can } = useWorkspace();
  const agents = useResource(() => api.agents.list(workspace.id), [api, workspace.id]);
  return (
    <section className="stack">
      <div className="page-head">
        <PageHeading title="Agents">Agents</PageHeading>
        {can('agents:write') ? (
          <Link className="button primary" to="/setup">
            New agent
          </Link>
        ) : null}
      </div>
      {agents.error ? (
        <ErrorBanner error={agents.error} onRetry={() => void agents.reload()} />
      ) : null}
      {agents.loading && !agents.data ? <Loading /> : null}
      {agents.data?.length === 0 ? (
        <Empty>
          No agents yet. <Link to="/setup">Create your first agent</Link>.
        </Empty>
      ) : null}
      <ul className="cards">
        {agents.data?.map((agent) => (
          <AgentCard key={agent.id} agent={agent} onChange={() => void agents.reload()} />
        ))}
      </ul>
    </section>
  );
}

function AgentCard({ agent, onChange }: { agent: Agent; onChange: () => void }) {
  const api = useApi();
  const { workspace, can } = useWorkspace();
  const [open, setOpen] = useState(false);
  const [evals, setEvals] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const versions = useResource(
    async () => (open ? api.agents.versions(workspace.id, agent.name) : undefined),
    [api, workspace.id, agent.name, open],
  );
  const model = (agent.draft?.model ?? {}) as { provider?: string; model?: string };
  const name = encodeURIComponent(agent.name);
  const deploy = async () => {
    setBusy(true);
    setError(undefined);
    setNotice(null);
    try {
      const result = await api.agents.deploy(workspace.id, agent.name, {
        note: 'Deployed from the dashboard',
      });
      setNotice(
        result.created
          ? `Deployed as version ${result.version.version}.`
          : `Nothing to deploy: the draft is version ${result.version.version} already.`,
      );
      onChange();
      void versions.reload();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  return (
    <li className="card agent-card">
      <div className="card-head">
        <h2>
          <Link to={`/chat/${name}`}>{agent.name}</Link>
        </h2>
        <span className={agent.currentVersion !== null ? 'badge badge-succeeded' : 'badge'}>
          {agent.currentVersion !== null ? `version ${agent.currentVersion}` : 'not deployed'}
        </span>
      </div>
      {agent.description ? <p>{agent.description}</p> : null}
      <p className="muted small">
        Draft: {model.provider ?? '—'} · {model.model ?? '—'}
        {agent.draftUpdatedAt ? (
          <>
            {' '}
            · edited <Time iso={agent.draftUpdatedAt} />
          </>
        ) : null}
      </p>
      <RecallNote definition={agent.draft} />
      {error ? <ErrorBanner error={error} /> : null}
      {notice ? (
        <p className="muted small" role="status">
          {notice}
        </p>
      ) : null}
      <div className="row">
        <Link className="button small" to={`/chat/${name}`}>
          Chat
        </Link>
        {can('agents:write') ? (
          <Link className="button small" to={`/setup/${name}?step=model`}>
            Model and key
          </Link>
        ) : null}
        {can('agents:deploy') && agent.draft ? (
          <button type="button" className="button small" disabled={busy} onClick={deploy}>
            {busy ? 'Deploying…' : 'Deploy the draft'}
          </button>
        ) : null}
        <button
          type="button"
          className="button small"
          aria-expanded={open}
          onClick={() => setOpen((o) => !o)}
        >
          {open ? 'Hide versions' : 'Versions'}
        </button>
        <button
          type="button"
          className="button small"
          aria-expanded={evals}
          onClick={() => setEvals((shown) => !shown)}
        >
          {evals ? 'Hide evals' : 'Evals'}
        </button>
      </div>
      {evals ? (
        <div className="versions">
          <AgentEvals agent={agent.name} />
        </div>
      ) : null}
      {open ? (
        <div className="versions">
          {versions.error ? <ErrorBanner error={versions.error} /> : null}
          {versions.data?.length === 0 ? <p className="muted">Nothing deployed yet.</p> : null}
          {versions.data && versions.data.length > 0 ? (
            <table>
              <caption className="visually-hidden">Versions of {agent.name}</caption>
              <thead>
                <tr>
                  <th scope="col">Version</th>
                  <th scope="col">Model</th>
                  <th scope="col">Note</th>
                  <th scope="col">Deployed</th>
                </tr>
              </thead>
              <tbody>
                {versions.data.map((v) => {
                  const m = (v.definition.model ?? {}) as { provider?: string; model?: string };
                  return (
                    <tr key={v.id}>
                      <td>
                        {v.version}
                        {v.version === agent.currentVersion ? ' (current)' : ''}
                      </td>
                      <td>
                        {m.provider} · {m.model}
                      </td>
                      <td>{v.note ?? '—'}</td>
                      <td>
                        <Time iso={v.createdAt} />
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          ) : null}
        </div>
      ) : null}
    </li>
  );
}
