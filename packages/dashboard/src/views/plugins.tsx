import { useApi } from '../api/client.tsx';
import { useResource } from '../api/use-resource.ts';
import { ErrorBanner } from '../components/error-banner.tsx';
import { Loading, PageHeading } from '../components/page.tsx';

const TIER_HELP: Record<string, string> = {
  core: 'Ships with Parley.',
  verified: 'Reviewed by the Parley maintainers.',
  community: 'Published by others; runs out of process with only the permissions it declares.',
};

/** The plugins agents may use on this server, with their tier and declared permissions. */
export function PluginsView() {
  const api = useApi();
  const plugins = useResource(() => api.plugins(), [api]);
  return (
    <section className="stack">
      <PageHeading title="Plugins">Plugins</PageHeading>
      {plugins.error ? (
        <ErrorBanner error={plugins.error} onRetry={() => void plugins.reload()} />
      ) : null}
      {plugins.loading && !plugins.data ? <Loading /> : null}
      <ul className="cards">
        {plugins.data?.map((p) => (
          <li key={p.name} className="card">
            <div className="card-head">
              <h2>
                <code>{p.name}</code>
              </h2>
              <span className="muted small">{p.version}</span>
              {p.tier ? (
                <span className={`badge tier-${p.tier}`} title={TIER_HELP[p.tier]}>
                  {p.tier}
                </span>
              ) : null}
              {p.disabled ? (
                <span className="badge badge-failed">disabled by the operator</span>
              ) : null}
            </div>
            {p.description ? <p>{p.description}</p> : null}
            <p className="muted small">
              Network: {p.permissions.network.length ? p.permissions.network.join(', ') : 'none'} ·
              Secrets: {p.permissions.secrets.length ? p.permissions.secrets.join(', ') : 'none'}
            </p>
          </li>
        ))}
      </ul>
    </section>
  );
}
