import { type FormEvent, useState } from 'react';
import { useApi } from '../api/client.tsx';
import { useSession } from '../api/session.tsx';
import { useAttempt } from '../api/use-attempt.ts';
import { useResource } from '../api/use-resource.ts';
import { useWorkspace } from '../api/workspace.tsx';
import { CopyButton } from '../components/copy-button.tsx';
import { ErrorBanner } from '../components/error-banner.tsx';
import { Field } from '../components/field.tsx';
import { PageHeading } from '../components/page.tsx';
import { ResourceState } from '../components/resource-state.tsx';
import { Time } from '../components/time.tsx';

const ROLES = ['owner', 'admin', 'developer', 'viewer'] as const;
const INVITABLE = ['developer', 'viewer', 'admin'] as const;

/** Who is in the workspace and with which role; invitations (multi-user servers). */
export function MembersView() {
  const api = useApi();
  const { workspace, can, me } = useWorkspace();
  const members = useResource(() => api.members.list(workspace.id), [api, workspace.id]);
  const manage = can('members:manage');
  const multi = me.mode === 'multi-user';
  const invitations = useResource(
    async () => (manage && multi ? api.invitations.list(workspace.id) : []),
    [api, workspace.id, manage, multi],
  );
  const { error, attempt } = useAttempt();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<(typeof INVITABLE)[number]>('developer');
  const [invited, setInvited] = useState<{ email: string; token: string } | null>(null);

  const invite = (event: FormEvent) => {
    event.preventDefault();
    void attempt(async () => {
      const result = await api.invitations.create(workspace.id, { email: email.trim(), role });
      setInvited({ email: result.invitation.email, token: result.token });
      setEmail('');
      await invitations.reload();
    });
  };

  return (
    <section className="stack">
      <PageHeading title="Members">Members</PageHeading>
      {error ? <ErrorBanner error={error} /> : null}
      <ResourceState of={[members]} />
      {members.data ? (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Person</th>
                <th scope="col">Role</th>
                <th scope="col">Joined</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {members.data.map((m) => {
                const self = m.userId === me.user?.id;
                return (
                  <tr key={m.userId}>
                    <td>
                      {m.displayName ?? m.email}
                      {m.displayName ? <span className="muted small"> {m.email}</span> : null}
                      {self ? <span className="muted small"> (you)</span> : null}
                    </td>
                    <td>
                      {manage && !self && m.role !== 'owner' ? (
                        <select
                          aria-label={`Role of ${m.email}`}
                          value={m.role}
                          onChange={(event) =>
                            void attempt(async () => {
                              await api.members.setRole(
                                workspace.id,
                                m.userId,
                                event.target.value as (typeof ROLES)[number],
                              );
                              await members.reload();
                            })
                          }
                        >
                          {ROLES.filter((r) => r !== 'owner').map((r) => (
                            <option key={r} value={r}>
                              {r}
                            </option>
                          ))}
                        </select>
                      ) : (
                        m.role
                      )}
                    </td>
                    <td>
                      <Time iso={m.joinedAt} />
                    </td>
                    <td>
                      {manage && !self && m.role !== 'owner' ? (
                        <button
                          type="button"
                          className="button small danger"
                          onClick={() => {
                            if (!window.confirm(`Remove ${m.email} from ${workspace.name}?`))
                              return;
                            void attempt(async () => {
                              await api.members.remove(workspace.id, m.userId);
                              await members.reload();
                            });
                          }}
                        >
                          Remove <span className="visually-hidden">{m.email}</span>
                        </button>
                      ) : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      {!multi ? (
        <p className="muted">
          This server runs in single-user mode: one owner, no invitations. Start it with{' '}
          <code>PARLEY_MULTI_USER=1</code> for a team.
        </p>
      ) : null}
      {multi ? <JoinWorkspace /> : null}
      {manage && multi ? (
        <>
          <h2>Invitations</h2>
          {invited ? (
            <div className="banner banner-ok" role="status">
              <p>
                <strong>{invited.email} is invited.</strong> Send them this invitation token (shown
                once); they accept it after signing in.
              </p>
              <p className="token-once">
                <code>{invited.token}</code>{' '}
                <CopyButton text={invited.token} label="Copy invitation" />
              </p>
            </div>
          ) : null}
          <form className="card row-form" onSubmit={invite} aria-label="Invite someone">
            <Field label="Email">
              {(props) => (
                <input
                  {...props}
                  type="email"
                  required
                  value={email}
                  onChange={(event) => setEmail(event.target.value)}
                />
              )}
            </Field>
            <Field label="Role">
              {(props) => (
                <select
                  {...props}
                  value={role}
                  onChange={(event) => setRole(event.target.value as (typeof INVITABLE)[number])}
                >
                  {INVITABLE.map((r) => (
                    <option key={r} value={r}>
                      {r}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <button type="submit" className="button primary">
              Invite
            </button>
          </form>
          {invitations.error ? <ErrorBanner error={invitations.error} /> : null}
          {invitations.data && invitations.data.length > 0 ? (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Email</th>
                    <th scope="col">Role</th>
                    <th scope="col">Status</th>
                    <th scope="col">Expires</th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {invitations.data.map((i) => (
                    <tr key={i.id}>
                      <td>{i.email}</td>
                      <td>{i.role}</td>
                      <td>{i.status}</td>
                      <td>
                        <Time iso={i.expiresAt} />
                      </td>
                      <td>
                        {i.status === 'pending' ? (
                          <button
                            type="button"
                            className="button small danger"
                            onClick={() =>
                              void attempt(async () => {
                                await api.invitations.revoke(workspace.id, i.id);
                                await invitations.reload();
                              })
                            }
                          >
                            Revoke <span className="visually-hidden">{i.email}</span>
                          </button>
                        ) : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : (
            <p className="muted">No invitations.</p>
          )}
        </>
      ) : null}
    </section>
  );
}

/** Accepting an invitation: paste its token, join its workspace, and switch to it. */
function JoinWorkspace() {
  const api = useApi();
  const session = useSession();
  const { select } = useWorkspace();
  const [token, setToken] = useState('');
  const { error, attempt } = useAttempt();
  const join = (event: FormEvent) => {
    event.preventDefault();
    void attempt(async () => {
      const workspace = await api.invitations.accept(token.trim());
      setToken('');
      select(workspace.id);
      await session.refresh();
    });
  };
  return (
    <form className="card row-form" onSubmit={join} aria-label="Join a workspace">
      <Field label="Invitation token" hint="Someone invited you? Paste the token they sent.">
        {(props) => (
          <input
            {...props}
            value={token}
            required
            autoComplete="off"
            onChange={(event) => setToken(event.target.value)}
          />
        )}
      </Field>
      <button type="submit" className="button">
        Join
      </button>
      {error ? <ErrorBanner error={error} /> : null}
    </form>
  );
}
