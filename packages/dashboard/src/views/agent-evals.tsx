import type { api as wire } from '@parley/protocol';
import { useApi } from '../api/client.tsx';
import { useResource } from '../api/use-resource.ts';
import { useWorkspace } from '../api/workspace.tsx';
import { ErrorBanner } from '../components/error-banner.tsx';

type EvalResult = wire.EvalResult;

/** Versions shown side by side per dataset (the newest result of each). */
const MAX_VERSIONS = 4;

/**
 * An agent's eval results (docs/evals.md): per dataset, the newest result of each version side
 * by side, oldest version on the left; a row per case with its score in each, the mean on top.
 */
export function AgentEvals({ agent }: { agent: string }) {
  const api = useApi();
  const { workspace } = useWorkspace();
  const results = useResource(
    () => api.evals.list(workspace.id, agent, { limit: 100 }),
    [api, workspace.id, agent],
  );
  if (results.error) return <ErrorBanner error={results.error} />;
  if (!results.data) return null;
  if (results.data.length === 0)
    return (
      <p className="muted">
        No evals yet: <code>parley eval &lt;dataset.jsonl&gt; --agent {agent}</code>.
      </p>
    );
  return (
    <>
      {byDataset(results.data).map(([dataset, columns]) => (
        <DatasetTable key={dataset} dataset={dataset} columns={columns} />
      ))}
    </>
  );
}

/** Each dataset's newest result per version, oldest version first (results come newest first). */
export function byDataset(results: readonly EvalResult[]): [string, EvalResult[]][] {
  const datasets = new Map<string, Map<string, EvalResult>>();
  for (const result of results) {
    const versions = datasets.get(result.dataset) ?? new Map<string, EvalResult>();
    datasets.set(result.dataset, versions);
    if (!versions.has(result.versionLabel) && versions.size < MAX_VERSIONS)
      versions.set(result.versionLabel, result);
  }
  return [...datasets].map(([dataset, versions]) => [dataset, [...versions.values()].reverse()]);
}

export function DatasetTable({ dataset, columns }: { dataset: string; columns: EvalResult[] }) {
  const caseIds = [...new Set(columns.flatMap((result) => result.cases.map((c) => c.id)))];
  const scoreOf = (result: EvalResult, id: string) => result.cases.find((c) => c.id === id);
  return (
    <table className="evals">
      <caption>
        Dataset <code>{dataset}</code>
      </caption>
      <thead>
        <tr>
          <th scope="col">Case</th>
          {columns.map((result) => (
            <th scope="col" key={result.id}>
              {result.versionLabel}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        <tr>
          <th scope="row">mean</th>
          {columns.map((result) => (
            <td key={result.id}>
              <strong>{result.meanScore.toFixed(2)}</strong>
            </td>
          ))}
        </tr>
        {caseIds.map((id) => (
          <tr key={id}>
            <th scope="row">{id}</th>
            {columns.map((result) => {
              const found = scoreOf(result, id);
              const why = found?.error ?? found?.scores.find((s) => s.score < 1)?.detail;
              return (
                <td key={result.id} title={why}>
                  {found ? found.score.toFixed(2) : '—'}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
