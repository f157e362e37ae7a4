import type { Agent } from '@parley/client';
import { useState } from 'react';
import { useApi } from '../api/client.tsx';
import { useWorkspace } from '../api/workspace.tsx';
import { CopyButton } from '../components/copy-button.tsx';
import { ErrorBanner } from '../components/error-banner.tsx';
import { Link } from '../router.tsx';

/** How to call a deployed agent: the HTTP API, the CLI and the typed client. */
export function snippets(origin: string, workspaceId: string, agent: string) {
  return [
    {
      id: 'curl',
      label: 'HTTP (streams Server-Sent Events)',
      code: `curl -N ${origin}/v1/workspaces/${workspaceId}/agents/${agent}/runs \\
  -H "authorization: Bearer $PARLEY_TOKEN" \\
  -H 'content-type: application/json' \\
  -d '{"input": "What is 6 * 7?"}'`,
    },
    {
      id: 'cli',
      label: 'CLI',
      code: `npx parley login ${origin}
npx parley run "What is 6 * 7?" --agent ${agent}`,
    },
    {
      id: 'client',
      label: 'TypeScript (@parley/client)',
      code: `import { createParleyClient } from '@parley/client';

const parley = createParleyClient({ baseUrl: '${origin}', token: process.env.PARLEY_TOKEN });
const run = await parley.runs.stream('${workspaceId}', '${agent}', { input: 'What is 6 * 7?' });
for await (const event of run) if (event.type === 'text.delta') process.stdout.write(event.delta);`,
    },
  ];
}

/** Step 4: the draft becomes version 1 (what API calls run by default), then how to call it. */
export function DeployStep({ agent, onDeployed }: { agent: Agent; onDeployed: () => void }) {
  const api = useApi();
  const { workspace, can } = useWorkspace();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const deployed = agent.currentVersion !== null;

  const deploy = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await api.agents.deploy(workspace.id, agent.name, { note: 'Deployed from onboarding' });
      onDeployed();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  if (!deployed)
    return (
      <div className="stack">
        <p className="lead">
          Deploying turns the draft you just tried into <strong>version 1</strong>: API calls and
          the CLI run it by default, and later edits stay in the draft until you deploy again.
        </p>
        {error ? <ErrorBanner error={error} /> : null}
        <div className="step-actions">
          <button
            type="button"
            className="button primary"
            onClick={deploy}
            disabled={busy || !can('agents:deploy')}
          >
            {busy ? 'Deploying…' : 'Deploy version 1'}
          </button>
        </div>
      </div>
    );
  const origin = window.location.origin;
  return (
    <div className="stack">
      <div className="banner banner-ok" role="status">
        <strong>
          {agent.name} is deployed (version {agent.currentVersion}).
        </strong>{' '}
        Call it from anywhere with an API token.
      </div>
      <TokenForSnippets agent={agent.name} />
      {snippets(origin, workspace.id, agent.name).map((s) => (
        <figure key={s.id} className="snippet">
          <figcaption>
            {s.label} <CopyButton text={s.code} label={`Copy ${s.id}`} />
          </figcaption>
          <pre>
            <code>{s.code}</code>
          </pre>
        </figure>
      ))}
      <div className="step-actions">
        <Link className="button primary" to={`/chat/${encodeURIComponent(agent.name)}`}>
          Open the chat
        </Link>
        <Link className="button" to="/agents">
          Go to the workspace
        </Link>
      </div>
    </div>
  );
}

/** A token to try the snippets with at once (run and read scopes), shown once. */
function TokenForSnippets({ agent }: { agent: string }) {
  const api = useApi();
  const { workspace, can } = useWorkspace();
  const [token, setToken] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  if (!can('tokens:manage'))
    return (
      <p>
        The snippets need an API token in <code>PARLEY_TOKEN</code>: ask an admin of{' '}
        {workspace.name} for one.
      </p>
    );
  const create = async () => {
    setError(undefined);
    try {
      const created = await api.tokens.create(workspace.id, {
        name: `${agent} (onboarding)`,
        scopes: ['runs:create', 'runs:read', 'agents:read'],
        expiresInDays: 30,
      });
      setToken(created.token);
    } catch (caught) {
      setError(caught);
    }
  };
  if (token)
    return (
      <div className="banner banner-ok" role="status" data-testid="snippet-token">
        <p>
          <strong>Your token, shown once:</strong> it may run and read agents for 30 days.
        </p>
        <p className="token-once">
          <code>export PARLEY_TOKEN={token}</code>{' '}
          <CopyButton text={`export PARLEY_TOKEN=${token}`} label="Copy" />
        </p>
      </div>
    );
  return (
    <div className="stack">
      {error ? <ErrorBanner error={error} /> : null}
      <p>
        The snippets read an API token from <code>PARLEY_TOKEN</code>.{' '}
        <button type="button" className="button small" onClick={create}>
          Create a token for them
        </button>{' '}
        or manage tokens on the <Link to="/tokens">API tokens</Link> page.
      </p>
    </div>
  );
}
