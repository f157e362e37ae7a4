import { useCallback } from 'react';
import { browserClient } from './api/client.tsx';
import { SessionProvider, useSession } from './api/session.tsx';
import { WorkspaceProvider } from './api/workspace.tsx';
import { SignIn } from './auth/sign-in.tsx';
import { ErrorBanner } from './components/error-banner.tsx';
import { Loading } from './components/page.tsx';
import { Shell } from './shell.tsx';

/** The dashboard: who is signed in decides what shows (sign-in page, or the workspace). */
export function App() {
  const makeClient = useCallback((token?: string) => browserClient(token), []);
  return (
    <SessionProvider makeClient={makeClient}>
      <Gate />
    </SessionProvider>
  );
}

function Gate() {
  const session = useSession();
  const { state } = session;
  if (state.status === 'loading')
    return (
      <main className="center-page">
        <Loading label="Opening Parley…" />
      </main>
    );
  if (state.status === 'unreachable')
    return (
      <main className="center-page">
        <h1>Parley</h1>
        <ErrorBanner trouble={state.trouble} onRetry={() => void session.refresh()} />
      </main>
    );
  if (state.status === 'signed-out') return <SignIn />;
  return (
    <WorkspaceProvider me={state.me}>
      <Shell />
    </WorkspaceProvider>
  );
}
