import { type FormEvent, useState } from 'react';
import { useApi } from '../api/client.tsx';
import { useAttempt } from '../api/use-attempt.ts';
import { useResource } from '../api/use-resource.ts';
import { useWorkspace } from '../api/workspace.tsx';
import { ErrorBanner } from '../components/error-banner.tsx';
import { Field, WriteOnlyInput } from '../components/field.tsx';
import { Empty, PageHeading } from '../components/page.tsx';
import { ResourceState } from '../components/resource-state.tsx';
import { Time } from '../components/time.tsx';

/** Secrets by name and last 4 characters: values go in and never come back out. */
export function SecretsView() {
  const api = useApi();
  const { workspace, can } = useWorkspace();
  const secrets = useResource(() => api.secrets.list(workspace.id), [api, workspace.id]);
  const { error, attempt } = useAttempt();
  const [name, setName] = useState('');
  const [value, setValue] = useState('');

  const save = (event: FormEvent) => {
    event.preventDefault();
    void attempt(async () => {
      await api.secrets.put(workspace.id, name.trim(), value);
      setName('');
      setValue('');
      await secrets.reload();
    });
  };
  const remove = (secret: string) => {
    if (!window.confirm(`Delete the secret ${secret}? Agents that use it stop working.`)) return;
    void attempt(async () => {
      await api.secrets.delete(workspace.id, secret);
      await secrets.reload();
    });
  };

  return (
    <section className="stack">
      <PageHeading title="Secrets">Secrets</PageHeading>
      <p className="muted">
        Provider keys and other credentials, encrypted at rest. Only the last 4 characters are ever
        shown.
      </p>
      {error ? <ErrorBanner error={error} /> : null}
      <ResourceState of={[secrets]} />
      {secrets.data?.length === 0 ? <Empty>No secrets yet.</Empty> : null}
      {secrets.data && secrets.data.length > 0 ? (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Value</th>
                <th scope="col">Updated</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {secrets.data.map((s) => (
                <tr key={s.name}>
                  <td>
                    <code>{s.name}</code>
                  </td>
                  <td>
                    <code>…{s.last4 ?? '????'}</code>
                  </td>
                  <td>
                    <Time iso={s.updatedAt} />
                  </td>
                  <td>
                    {can('secrets:write') ? (
                      <button
                        type="button"
                        className="button small danger"
                        onClick={() => remove(s.name)}
                      >
                        Delete <span className="visually-hidden">{s.name}</span>
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {can('secrets:write') ? (
        <form className="card stack" onSubmit={save} aria-label="Add or replace a secret">
          <h2>Add or replace a secret</h2>
          <Field label="Name" hint="e.g. OPENAI_API_KEY">
            {(props) => (
              <input
                {...props}
                value={name}
                required
                onChange={(event) => setName(event.target.value)}
              />
            )}
          </Field>
          <Field label="Value" hint="Write-only: it is never shown again.">
            {(props) => (
              <WriteOnlyInput
                {...props}
                value={value}
                required
                onChange={(event) => setValue(event.target.value)}
              />
            )}
          </Field>
          <div>
            <button type="submit" className="button primary">
              Save secret
            </button>
          </div>
        </form>
      ) : null}
    </section>
  );
}
