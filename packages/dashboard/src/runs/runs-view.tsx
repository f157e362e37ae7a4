import { useApi } from '../api/client.tsx';
import { useResource } from '../api/use-resource.ts';
import { useWorkspace } from '../api/workspace.tsx';
import { ErrorBanner } from '../components/error-banner.tsx';
import { formatMs } from '../components/format.ts';
import { Empty, Loading, PageHeading } from '../components/page.tsx';
import { Time } from '../components/time.tsx';
import { Link } from '../router.tsx';

/** `/runs`: the workspace's latest runs; each opens its trace. */
export function RunsView() {
  const api = useApi();
  const { workspace } = useWorkspace();
  const runs = useResource(() => api.runs.list(workspace.id, { limit: 100 }), [api, workspace.id]);
  const agents = useResource(() => api.agents.list(workspace.id), [api, workspace.id]);
  const nameOf = (agentId: string) => agents.data?.find((a) => a.id === agentId)?.name ?? agentId;
  return (
    <section className="stack">
      <PageHeading title="Runs">Runs</PageHeading>
      <ErrorBanner error={runs.error} />
      {runs.loading && !runs.data ? <Loading /> : null}
      {runs.data?.length === 0 ? <Empty>No runs yet.</Empty> : null}
      {runs.data?.length ? (
        <table>
          <thead>
            <tr>
              <th>Started</th>
              <th>Agent</th>
              <th>Status</th>
              <th>Model</th>
              <th>TTFT</th>
              <th>Took</th>
              <th>Trace</th>
            </tr>
          </thead>
          <tbody>
            {runs.data.map((run) => (
              <tr key={run.id}>
                <td>
                  <Time iso={run.createdAt} />
                </td>
                <td>{nameOf(run.agentId)}</td>
                <td>{run.status}</td>
                <td>{run.model ?? '—'}</td>
                <td>{formatMs(run.ttftMs)}</td>
                <td>{formatMs(run.durationMs)}</td>
                <td>
                  <Link to={`/runs/${run.id}`}>Trace</Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
