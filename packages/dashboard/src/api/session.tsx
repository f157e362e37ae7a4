import { type Me, ParleyApiError, type ParleyClient } from '@parley/client';
import {
  createContext,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useState,
} from 'react';
import { ApiProvider } from './client.tsx';
import { describeError, type Trouble } from './errors.ts';

/*
 * Who is using the dashboard. On load: the session cookie if there is one; else, in
 * single-user mode, a local session for the owner (POST /v1/auth/local, which only a browser
 * on the server's machine gets); else the sign-in page (multi-user mode: sign in or sign up;
 * a server that requires tokens: paste one, kept for this tab only).
 */

export type SessionState =
  | { status: 'loading' }
  | { status: 'unreachable'; trouble: Trouble }
  | { status: 'signed-out' }
  | { status: 'signed-in'; me: Me };

export interface SignUpInput {
  email: string;
  password: string;
  displayName?: string;
  workspaceName?: string;
}

export interface SessionApi {
  state: SessionState;
  signIn(email: string, password: string): Promise<void>;
  signUp(input: SignUpInput): Promise<void>;
  signInWithToken(token: string): Promise<void>;
  signOut(): Promise<void>;
  refresh(): Promise<void>;
}

const TOKEN_KEY = 'parley.token';
const SessionContext = createContext<SessionApi | null>(null);

export function SessionProvider({
  makeClient,
  children,
}: {
  makeClient: (token?: string) => ParleyClient;
  children: ReactNode;
}) {
  const [token, setToken] = useState<string | undefined>(
    () => sessionStorage.getItem(TOKEN_KEY) ?? undefined,
  );
  const client = useMemo(() => makeClient(token), [makeClient, token]);
  const [state, setState] = useState<SessionState>({ status: 'loading' });

  const load = useCallback(async () => {
    try {
      setState({ status: 'signed-in', me: await client.me() });
      return;
    } catch (error) {
      if (!(error instanceof ParleyApiError && error.status === 401)) {
        setState({ status: 'unreachable', trouble: describeError(error) });
        return;
      }
    }
    if (token) {
      // The token stopped working (revoked, expired): forget it.
      sessionStorage.removeItem(TOKEN_KEY);
      setToken(undefined);
      return;
    }
    try {
      await client.auth.localSession();
      setState({ status: 'signed-in', me: await client.me() });
    } catch {
      setState({ status: 'signed-out' });
    }
  }, [client, token]);

  useEffect(() => {
    void load();
  }, [load]);

  const api = useMemo<SessionApi>(
    () => ({
      state,
      async signIn(email, password) {
        await client.auth.logIn({ email, password });
        await load();
      },
      async signUp(input) {
        await client.auth.signUp(input);
        await load();
      },
      async signInWithToken(value) {
        const probe = makeClient(value);
        await probe.me(); // throws if it is not a valid token
        sessionStorage.setItem(TOKEN_KEY, value);
        setToken(value);
      },
      async signOut() {
        if (token) {
          sessionStorage.removeItem(TOKEN_KEY);
          setToken(undefined);
        } else await client.auth.logOut().catch(() => undefined);
        setState({ status: 'signed-out' });
      },
      refresh: load,
    }),
    [state, client, load, makeClient, token],
  );

  return (
    <SessionContext.Provider value={api}>
      <ApiProvider client={client}>{children}</ApiProvider>
    </SessionContext.Provider>
  );
}

export function useSession(): SessionApi {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession() outside <SessionProvider>');
  return session;
}
