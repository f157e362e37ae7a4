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
      <p>
        You need a token: <Link to="/tokens">create an API token</Link> (shown once) and put it in{' '}
        <code>PARLEY_TOKEN</code>.
      </p>
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
