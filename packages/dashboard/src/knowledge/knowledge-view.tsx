import { useApi } from '../api/client.tsx';
import { useResource } from '../api/use-resource.ts';
import { useWorkspace } from '../api/workspace.tsx';
import { ErrorBanner } from '../components/error-banner.tsx';
import { Empty, Loading, PageHeading } from '../components/page.tsx';
import { BaseCard } from './base-card.tsx';

/** The workspace's knowledge bases (docs/memory.md, "Knowledge") and their documents. */
export function KnowledgeView() {
  const api = useApi();
  const { workspace, can } = useWorkspace();
  const bases = useResource(() => api.knowledge.list(workspace.id), [api, workspace.id]);
  // Only to name the agent an agent's own base belongs to: without agents:read, no names.
  const agents = useResource(
    async () => (can('agents:read') ? api.agents.list(workspace.id) : []),
    [api, workspace.id],
  );
  const agentName = (id: string | null) =>
    id ? (agents.data?.find((a) => a.id === id)?.name ?? 'an agent') : undefined;
  return (
    <section className="stack">
      <PageHeading title="Knowledge">Knowledge</PageHeading>
      <p className="muted">
        Documents agents answer from: an agent searches its own base and the shared bases its
        agent.yaml lists. Text, Markdown, HTML and PDF, up to 700 KiB a file.
      </p>
      {bases.error ? <ErrorBanner error={bases.error} onRetry={() => void bases.reload()} /> : null}
      {bases.loading && !bases.data ? <Loading /> : null}
      {bases.data?.length === 0 ? (
        <Empty>
          No knowledge bases yet. Create an agent's own with{' '}
          <code>parley knowledge add docs/ --agent &lt;name&gt;</code>.
        </Empty>
      ) : null}
      <ul className="cards">
        {bases.data?.map((base) => (
          <BaseCard key={base.id} base={base} agentName={agentName(base.agentId)} />
        ))}
      </ul>
    </section>
  );
}
