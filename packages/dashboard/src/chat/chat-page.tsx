import { useCallback, useState } from 'react';
import { useApi } from '../api/client.tsx';
import { useResource } from '../api/use-resource.ts';
import { useWorkspace } from '../api/workspace.tsx';
import { ErrorBanner } from '../components/error-banner.tsx';
import { Loading, PageHeading } from '../components/page.tsx';
import { Time } from '../components/time.tsx';
import { Link, navigate, usePath } from '../router.tsx';
import { ChatPanel } from './chat-panel.tsx';

/** `/chat/:agent?c=<conversation>`: the agent's conversations, and one of them. */
export function ChatPage({ agentName }: { agentName: string }) {
  const api = useApi();
  const { workspace } = useWorkspace();
  const { query } = usePath();
  // The conversation the panel was opened on; one it starts itself only updates the URL.
  const [opened, setOpened] = useState(() => query.get('c') ?? undefined);
  const agent = useResource(
    () => api.agents.get(workspace.id, agentName),
    [api, workspace.id, agentName],
  );
  const agentId = agent.data?.agent.id;
  const conversations = useResource(
    async () => (agentId ? api.conversations.list(workspace.id, { agentId, limit: 50 }) : []),
    [api, workspace.id, agentId],
  );
  const base = `/chat/${encodeURIComponent(agentName)}`;
  const open = (id: string | undefined) => {
    setOpened(id);
    navigate(id ? `${base}?c=${id}` : base);
  };
  const started = useCallback(
    (id: string) => navigate(`${base}?c=${id}`, { replace: true }),
    [base],
  );
  const current = query.get('c') ?? undefined;

  if (agent.error) return <ErrorBanner error={agent.error} onRetry={() => void agent.reload()} />;
  if (!agent.data) return <Loading />;
  const { agent: info } = agent.data;
  return (
    <div className="chat-page">
      <aside className="conversations" aria-label="Conversations">
        <button type="button" className="button primary block" onClick={() => open(undefined)}>
          New conversation
        </button>
        {conversations.error ? <ErrorBanner error={conversations.error} /> : null}
        <ul>
          {conversations.data?.map((c) => (
            <li key={c.id}>
              <Link
                to={`${base}?c=${c.id}`}
                aria-current={c.id === current ? 'page' : undefined}
                onClick={(event) => {
                  event.preventDefault();
                  open(c.id);
                }}
              >
                <span className="conversation-title">{c.title ?? 'Untitled'}</span>
                <Time iso={c.updatedAt} />
              </Link>
            </li>
          ))}
        </ul>
        {conversations.data?.length === 0 ? <p className="muted">No conversations yet.</p> : null}
      </aside>
      <section className="chat-main">
        <PageHeading title={`Chat · ${info.name}`}>
          {info.name}{' '}
          <span className="muted small">
            {info.currentVersion !== null ? `version ${info.currentVersion}` : 'draft'}
          </span>
        </PageHeading>
        <ChatPanel
          key={opened ?? 'new'}
          agent={info.name}
          conversationId={opened}
          onConversation={started}
          onTurnSettled={() => void conversations.reload()}
        />
      </section>
    </div>
  );
}
