import { type FormEvent, useState } from 'react';
import { useApi } from '../api/client.tsx';
import { useResource } from '../api/use-resource.ts';
import { type Permission, useWorkspace } from '../api/workspace.tsx';
import { CopyButton } from '../components/copy-button.tsx';
import { ErrorBanner } from '../components/error-banner.tsx';
import { Field } from '../components/field.tsx';
import { Empty, Loading, PageHeading } from '../components/page.tsx';
import { Time } from '../components/time.tsx';

/** Scopes people pick most; `admin` stands for every permission. */
const SCOPES: { scope: 'admin' | Permission; label: string }[] = [
  { scope: 'runs:create', label: 'Run agents (runs:create)' },
  { scope: 'agents:read', label: 'Read agents (agents:read)' },
  { scope: 'runs:read', label: 'Read runs (runs:read)' },
  { scope: 'agents:write', label: 'Edit agents (agents:write)' },
  { scope: 'agents:deploy', label: 'Deploy agents (agents:deploy)' },
  { scope: 'secrets:write', label: 'Write secrets (secrets:write)' },
  { scope: 'admin', label: 'Everything (admin)' },
];

/** API tokens: created here (the value is shown once), listed by prefix and last 4, revoked. */
export function TokensView() {
  const api = useApi();
  const { workspace } = useWorkspace();
  const tokens = useResource(() => api.tokens.list(workspace.id), [api, workspace.id]);
  const [error, setError] = useState<unknown>(undefined);
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>(['runs:create', 'agents:read', 'runs:read']);
  const [days, setDays] = useState(90);

  const create = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    try {
      const result = await api.tokens.create(workspace.id, {
        name: name.trim(),
        scopes,
        expiresInDays: days,
      });
      setCreated({ name: result.info.name, token: result.token });
      setName('');
      await tokens.reload();
    } catch (caught) {
      setError(caught);
    }
  };
  const revoke = async (id: string, tokenName: string) => {
    if (!window.confirm(`Revoke the token “${tokenName}”? Programs using it stop working.`)) return;
    setError(undefined);
    try {
      await api.tokens.revoke(workspace.id, id);
      await tokens.reload();
    } catch (caught) {
      setError(caught);
    }
  };
  const toggle = (scope: string, on: boolean) =>
    setScopes((s) => (on ? [...s, scope] : s.filter((x) => x !== scope)));

  return (
    <section className="stack">
      <PageHeading title="API tokens">API tokens</PageHeading>
      {error ? <ErrorBanner error={error} /> : null}
      {created ? (
        <div className="banner banner-ok" role="status" data-testid="new-token">
          <p>
            <strong>Token “{created.name}” created.</strong> Copy it now: it is not shown again.
          </p>
          <p className="token-once">
            <code>{created.token}</code> <CopyButton text={created.token} label="Copy token" />
          </p>
          <button type="button" className="link-button" onClick={() => setCreated(null)}>
            I have copied it
          </button>
        </div>
      ) : null}
      <form className="card stack" onSubmit={create} aria-label="Create a token">
        <h2>Create a token</h2>
        <Field label="Name" hint="What uses it, e.g. “support site”.">
          {(props) => (
            <input
              {...props}
              value={name}
              required
              maxLength={200}
              onChange={(event) => setName(event.target.value)}
            />
          )}
        </Field>
        <fieldset className="checks">
          <legend>Scopes</legend>
          {SCOPES.map((s) => (
            <label key={s.scope}>
              <input
                type="checkbox"
                checked={scopes.includes(s.scope)}
                onChange={(event) => toggle(s.scope, event.target.checked)}
              />{' '}
              {s.label}
            </label>
          ))}
        </fieldset>
        <Field label="Expires after (days)" hint="1 to 366.">
          {(props) => (
            <input
              {...props}
              type="number"
              min={1}
              max={366}
              value={days}
              onChange={(event) => setDays(Number(event.target.value))}
            />
          )}
        </Field>
        <div>
          <button type="submit" className="button primary" disabled={scopes.length === 0}>
            Create token
          </button>
        </div>
      </form>
      {tokens.error ? (
        <ErrorBanner error={tokens.error} onRetry={() => void tokens.reload()} />
      ) : null}
      {tokens.loading && !tokens.data ? <Loading /> : null}
      {tokens.data?.length === 0 ? <Empty>No tokens yet.</Empty> : null}
      {tokens.data && tokens.data.length > 0 ? (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Token</th>
                <th scope="col">Scopes</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {tokens.data.map((t) => (
                <tr key={t.id} className={t.revokedAt ? 'revoked' : undefined}>
                  <td>{t.name}</td>
                  <td>
                    <code>
                      {t.prefix}…{t.last4}
                    </code>
                  </td>
                  <td className="small">{t.scopes.join(', ')}</td>
                  <td>
                    <Time iso={t.lastUsedAt} />
                    {t.lastUsedIp ? (
                      <span className="muted small"> from {t.lastUsedIp}</span>
                    ) : null}
                  </td>
                  <td>{t.revokedAt ? 'revoked' : <Time iso={t.expiresAt} />}</td>
                  <td>
                    {t.revokedAt ? null : (
                      <button
                        type="button"
                        className="button small danger"
                        onClick={() => void revoke(t.id, t.name)}
                      >
                        Revoke <span className="visually-hidden">{t.name}</span>
                      </button>
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
