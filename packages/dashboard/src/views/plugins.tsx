import type { ParleyClient } from '@parley/client';
import { useApi } from '../api/client.tsx';
import { useResource } from '../api/use-resource.ts';
import { ErrorBanner } from '../components/error-banner.tsx';
import { Loading, PageHeading } from '../components/page.tsx';

const TIER_HELP: Record<string, string> = {
  core: 'Ships with Parley.',
  verified: 'Reviewed by the Parley maintainers.',
  community: 'Published by others; runs out of process with only the permissions it declares.',
  archived: 'No longer maintained: agents cannot use it.',
};

type PluginInfo = Awaited<ReturnType<ParleyClient['plugins']>>[number];

/** What the compatibility kit said about this plugin on this server's core (registry/plugins.json). */
export function compatibilityOf(p: PluginInfo): {
  text: string;
  tone: 'succeeded' | 'warning' | 'failed';
} {
  const { kit, testedCore, testedOnThisCore } = p.compatibility;
  if (kit === 'fail') return { text: 'kit failed', tone: 'failed' };
  if (kit === 'pass' && testedOnThisCore)
    return { text: 'kit passed on this core', tone: 'succeeded' };
  if (testedCore.length > 0)
    return { text: `tested on core ${testedCore.join(', ')} only`, tone: 'warning' };
  return { text: 'not tested by the kit', tone: 'warning' };
}

/** One plugin: name, version, tier, compatibility, whether it is disabled, permissions. */
export function PluginCard({ plugin: p }: { plugin: PluginInfo }) {
  const compatibility = compatibilityOf(p);
  return (
    <li className="card">
      <div className="card-head">
        <h2>
          <code>{p.name}</code>
        </h2>
        <span className="muted small">{p.version}</span>
        <span className={`badge tier-${p.tier}`} title={TIER_HELP[p.tier]}>
          {p.tier}
        </span>
        <span className={`badge badge-${compatibility.tone}`}>{compatibility.text}</span>
        {p.disabled ? <span className="badge badge-failed">disabled by the operator</span> : null}
      </div>
      {p.description ? <p>{p.description}</p> : null}
      <p className="muted small">
        Network: {p.permissions.network.length ? p.permissions.network.join(', ') : 'none'} ·
        Secrets: {p.permissions.secrets.length ? p.permissions.secrets.join(', ') : 'none'}
      </p>
    </li>
  );
}

/** The plugins agents may use on this server, with their tier, compatibility and permissions. */
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
          <PluginCard key={p.name} plugin={p} />
        ))}
      </ul>
    </section>
  );
}
