import { ParleyApiError } from '@parley/client';
import type { api as wire } from '@parley/protocol';
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
import {
  connect,
  DEFAULT_MODE,
  DEFAULT_SECRET,
  MODES,
  type Mode,
  PLATFORMS,
  type Platform,
  setPaused,
} from './channel-changes.ts';

/*
 * `/channels`: the agents' chat channels (docs/channels.md) as the instance that answers runs
 * them, connecting one, pausing and resuming one: what `parley channels` does, same API.
 */

type Agent = { id: string; name: string };

/** The channels, a row each, with pause or resume when the caller may deploy. */
export function ChannelsTable({
  channels,
  agents,
  onToggle,
}: {
  channels: wire.ChannelStatus[];
  agents: Agent[];
  onToggle?: ((channel: wire.ChannelStatus) => void) | undefined;
}) {
  const names = new Map(agents.map((a) => [a.id, a.name]));
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Agent</th>
            <th scope="col">Platform</th>
            <th scope="col">Mode</th>
            <th scope="col">State</th>
            <th scope="col">Last event</th>
            <th scope="col">Last error</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {channels.map((c) => {
            const agent = names.get(c.agentId) ?? c.agentId;
            const paused = c.state === 'paused';
            return (
              <tr key={`${c.agentId}/${c.platform}`}>
                <td>{agent}</td>
                <td>{c.platform}</td>
                <td>{c.mode}</td>
                <td>
                  {c.state}
                  {c.listening ? <span className="muted small"> (listening here)</span> : null}
                </td>
                <td>{c.lastEventAt ? <Time iso={c.lastEventAt} /> : '–'}</td>
                <td>{c.lastError ?? '–'}</td>
                <td>
                  {onToggle ? (
                    <button type="button" className="button small" onClick={() => onToggle(c)}>
                      {paused ? 'Resume' : 'Pause'}{' '}
                      <span className="visually-hidden">
                        {agent} on {c.platform}
                      </span>
                    </button>
                  ) : null}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** A refused token is the platform's answer, said as such; anything else as usual. */
function ConnectError({ error }: { error: unknown }) {
  if (error instanceof ParleyApiError && error.code === 'channel.token_refused')
    return (
      <div className="banner banner-error" role="alert">
        <strong>The platform refused this token.</strong> <span>{error.problem.detail}</span>
      </div>
    );
  return <ErrorBanner error={error} />;
}

/** Connects a channel: the token stored as a secret, checked, then the agent deployed. */
function ConnectForm({ agents, onDone }: { agents: Agent[]; onDone: () => Promise<void> }) {
  const api = useApi();
  const { workspace } = useWorkspace();
  const [agentId, setAgentId] = useState(agents[0]?.id ?? '');
  const [platform, setPlatform] = useState<Platform>('telegram');
  const [mode, setMode] = useState<Mode>(DEFAULT_MODE.telegram);
  const [tokenSecret, setTokenSecret] = useState(DEFAULT_SECRET.telegram);
  const [token, setToken] = useState('');
  const [signing, setSigning] = useState('');
  const [apiRoot, setApiRoot] = useState('');
  const { error, busy, attempt } = useAttempt();
  const [done, setDone] = useState('');

  const choose = (next: Platform) => {
    setPlatform(next);
    setMode(DEFAULT_MODE[next]);
    setTokenSecret(DEFAULT_SECRET[next]);
  };
  const save = (event: FormEvent) => {
    event.preventDefault();
    setDone('');
    void attempt(async () => {
      const slack = platform === 'slack' ? { signingSecret: 'SLACK_SIGNING_SECRET' } : {};
      const result = await connect(api, workspace.id, {
        agentId,
        platform,
        mode,
        tokenSecret: tokenSecret.trim(),
        token,
        ...slack,
        ...(signing ? { signingValue: signing } : {}),
        ...(apiRoot.trim() ? { apiRoot: apiRoot.trim() } : {}),
      });
      setToken('');
      setSigning('');
      const name = agents.find((a) => a.id === agentId)?.name ?? agentId;
      setDone(`${name} answers on ${platform} as ${result.bot} (deployed v${result.version}).`);
      await onDone();
    });
  };

  return (
    <form className="card stack" onSubmit={save} aria-label="Connect a channel">
      <h2>Connect a channel</h2>
      {error ? <ConnectError error={error} /> : null}
      {done ? (
        <p className="banner" role="status">
          {done}
        </p>
      ) : null}
      <Field label="Agent">
        {(props) => (
          <select {...props} value={agentId} onChange={(e) => setAgentId(e.target.value)}>
            {agents.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Platform">
        {(props) => (
          <select {...props} value={platform} onChange={(e) => choose(e.target.value as Platform)}>
            {PLATFORMS.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Mode">
        {(props) => (
          <select {...props} value={mode} onChange={(e) => setMode(e.target.value as Mode)}>
            {MODES[platform].map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Token secret" hint="The workspace secret that holds the bot token.">
        {(props) => (
          <input
            {...props}
            value={tokenSecret}
            required
            onChange={(e) => setTokenSecret(e.target.value)}
          />
        )}
      </Field>
      <Field
        label="Bot token"
        hint="Stored in that secret, never shown again. Leave empty to keep the stored one."
      >
        {(props) => (
          <WriteOnlyInput {...props} value={token} onChange={(e) => setToken(e.target.value)} />
        )}
      </Field>
      {platform === 'slack' ? (
        <Field
          label="Signing secret"
          hint="Stored as SLACK_SIGNING_SECRET. Leave empty to keep the stored one."
        >
          {(props) => (
            <WriteOnlyInput
              {...props}
              value={signing}
              onChange={(e) => setSigning(e.target.value)}
            />
          )}
        </Field>
      ) : null}
      <Field
        label="API root"
        hint="Only for a self-hosted API server or a proxy (as --api-root). Empty: the platform’s own."
      >
        {(props) => (
          <input
            {...props}
            type="url"
            value={apiRoot}
            onChange={(e) => setApiRoot(e.target.value)}
          />
        )}
      </Field>
      <div>
        <button type="submit" className="button primary" disabled={busy || !agentId}>
          Check the token and connect
        </button>
      </div>
    </form>
  );
}

export function ChannelsView() {
  const api = useApi();
  const { workspace, can } = useWorkspace();
  const channels = useResource(() => api.channels.list(workspace.id), [api, workspace.id]);
  const agents = useResource(() => api.agents.list(workspace.id), [api, workspace.id]);
  const { error, attempt } = useAttempt();
  const deploy = can('agents:deploy');

  const toggle = (c: wire.ChannelStatus) =>
    void attempt(async () => {
      await setPaused(api, workspace.id, c.agentId, c.platform, c.state !== 'paused');
      await channels.reload();
    });

  return (
    <section className="stack">
      <PageHeading title="Channels">Channels</PageHeading>
      <p className="muted">
        The agents’ chats on Telegram, Slack and Discord. Every change deploys the agent, as{' '}
        <code>parley channels</code> does.
      </p>
      {error ? <ErrorBanner error={error} /> : null}
      <ResourceState of={[channels, agents]} />
      {channels.data?.length === 0 ? <Empty>No agent is on a chat platform yet.</Empty> : null}
      {channels.data && channels.data.length > 0 && agents.data ? (
        <ChannelsTable
          channels={channels.data}
          agents={agents.data}
          onToggle={deploy ? toggle : undefined}
        />
      ) : null}
      {deploy && can('secrets:write') && agents.data && agents.data.length > 0 ? (
        <ConnectForm agents={agents.data} onDone={channels.reload} />
      ) : null}
    </section>
  );
}
