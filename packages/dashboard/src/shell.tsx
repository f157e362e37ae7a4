import { useEffect } from 'react';
import { useApi } from './api/client.tsx';
import { useSession } from './api/session.tsx';
import { useResource } from './api/use-resource.ts';
import { type Permission, useWorkspace } from './api/workspace.tsx';
import { ChannelsView } from './channels/channels-view.tsx';
import { ChatPage } from './chat/chat-page.tsx';
import { ErrorBanner } from './components/error-banner.tsx';
import { Loading } from './components/page.tsx';
import { KnowledgeView } from './knowledge/knowledge-view.tsx';
import { Onboarding } from './onboarding/onboarding.tsx';
import { firstAgentStep } from './onboarding/progress.ts';
import { Link, match, navigate, usePath } from './router.tsx';
import { RunTraceView } from './runs/run-trace.tsx';
import { RunsView } from './runs/runs-view.tsx';
import { TrustView } from './trust/trust-view.tsx';
import { AgentsView } from './views/agents.tsx';
import { AuditView } from './views/audit.tsx';
import { MembersView } from './views/members.tsx';
import { MetricsView } from './views/metrics.tsx';
import { PluginsView } from './views/plugins.tsx';
import { SecretsView } from './views/secrets.tsx';
import { TokensView } from './views/tokens.tsx';

const NAV: { to: string; label: string; permission: Permission }[] = [
  { to: '/agents', label: 'Agents', permission: 'agents:read' },
  { to: '/channels', label: 'Channels', permission: 'agents:read' },
  { to: '/members', label: 'Members', permission: 'members:read' },
  { to: '/tokens', label: 'API tokens', permission: 'tokens:manage' },
  { to: '/secrets', label: 'Secrets', permission: 'secrets:read' },
  { to: '/audit', label: 'Audit', permission: 'audit:read' },
  { to: '/runs', label: 'Runs', permission: 'runs:read' },
  { to: '/usage', label: 'Metrics', permission: 'runs:read' },
  { to: '/plugins', label: 'Plugins', permission: 'agents:read' },
  { to: '/knowledge', label: 'Knowledge', permission: 'memories:read' },
  { to: '/safety', label: 'Trust', permission: 'workspace:read' },
];

/** The signed-in frame: header, navigation, and the page the path names. */
export function Shell() {
  const { workspace, workspaces, select, can, me } = useWorkspace();
  const session = useSession();
  const { path } = usePath();
  const who = me.user?.displayName ?? me.user?.email ?? (me.token ? 'API token' : 'Owner');
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand">
          Parley
        </Link>
        {workspaces.length > 1 ? (
          <label className="workspace-picker">
            <span className="visually-hidden">Workspace</span>
            <select
              value={workspace.id}
              onChange={(event) => {
                select(event.target.value);
                navigate('/');
              }}
            >
              {workspaces.map((w) => (
                <option key={w.id} value={w.id}>
                  {w.name}
                </option>
              ))}
            </select>
          </label>
        ) : (
          <span className="workspace-name">{workspace.name}</span>
        )}
        <span className="spacer" />
        <span className="who" title={me.user?.email ?? ''}>
          {who}
        </span>
        {me.mode === 'multi-user' || me.auth === 'token' ? (
          <button type="button" className="button small" onClick={() => void session.signOut()}>
            Sign out
          </button>
        ) : null}
      </header>
      <nav className="nav" aria-label="Workspace">
        <ul>
          {NAV.filter((item) => can(item.permission)).map((item) => (
            <li key={item.to}>
              <Link to={item.to} aria-current={path.startsWith(item.to) ? 'page' : undefined}>
                {item.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" className="content" key={workspace.id}>
        <Page path={path} />
      </main>
    </div>
  );
}

function Page({ path }: { path: string }) {
  let params = match('/setup/:agent?', path);
  if (params) return <Onboarding agentName={params.agent} key={params.agent ?? ''} />;
  params = match('/chat/:agent', path);
  if (params) return <ChatPage agentName={params.agent!} key={params.agent} />;
  if (path === '/agents') return <AgentsView />;
  if (path === '/channels') return <ChannelsView />;
  if (path === '/members') return <MembersView />;
  if (path === '/tokens') return <TokensView />;
  if (path === '/secrets') return <SecretsView />;
  if (path === '/audit') return <AuditView />;
  // Not /metrics: that path is the server's Prometheus endpoint.
  if (path === '/usage') return <MetricsView />;
  if (path === '/runs') return <RunsView />;
  params = match('/runs/:runId', path);
  if (params) return <RunTraceView runId={params.runId!} />;
  if (path === '/plugins') return <PluginsView />;
  if (path === '/knowledge') return <KnowledgeView />;
  if (path === '/safety') return <TrustView />;
  if (path === '/') return <Home />;
  return (
    <section>
      <h1>Not found</h1>
      <p>
        Nothing lives at <code>{path}</code>. <Link to="/">Back to the start</Link>
      </p>
    </section>
  );
}

/** `/`: onboarding while the first agent is not deployed yet, else the agents. */
function Home() {
  const api = useApi();
  const { workspace } = useWorkspace();
  const agents = useResource(() => api.agents.list(workspace.id), [api, workspace.id]);
  useEffect(() => {
    if (!agents.data) return;
    const first = firstAgentStep(agents.data);
    navigate(first ? first : '/agents', { replace: true });
  }, [agents.data]);
  if (agents.error)
    return <ErrorBanner error={agents.error} onRetry={() => void agents.reload()} />;
  return <Loading />;
}
