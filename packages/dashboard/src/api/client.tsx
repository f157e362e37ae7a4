import { createParleyClient, type ParleyClient } from '@parley/client';
import { createContext, type ReactNode, useContext } from 'react';

/*
 * The typed client, talking to the server that served this page: same origin, so requests
 * carry the session cookie and the browser adds the Origin header the CSRF rule wants.
 * Components get it from context, so tests can hand them another.
 */

export function browserClient(token?: string): ParleyClient {
  return createParleyClient({ baseUrl: window.location.origin, ...(token ? { token } : {}) });
}

const ApiContext = createContext<ParleyClient | null>(null);

export function ApiProvider({ client, children }: { client: ParleyClient; children: ReactNode }) {
  return <ApiContext.Provider value={client}>{children}</ApiContext.Provider>;
}

export function useApi(): ParleyClient {
  const client = useContext(ApiContext);
  if (!client) throw new Error('useApi() outside <ApiProvider>');
  return client;
}
