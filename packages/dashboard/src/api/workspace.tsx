import type { Me, Workspace } from '@parley/client';
import { createContext, type ReactNode, useContext, useMemo, useState } from 'react';

/*
 * The workspace the dashboard shows, and what the caller may do there. Permissions mirror the
 * server's role table (docs/identity.md §2) so the dashboard hides what would be refused; the
 * server decides anyway, and a refusal is shown as such.
 */

export type Permission =
  | 'workspace:read'
  | 'workspace:manage'
  | 'workspace:delete'
  | 'members:read'
  | 'members:manage'
  | 'tokens:manage'
  | 'secrets:read'
  | 'secrets:write'
  | 'agents:read'
  | 'agents:write'
  | 'agents:deploy'
  | 'runs:read'
  | 'runs:create'
  | 'runs:cancel'
  | 'memories:read'
  | 'memories:write'
  | 'audit:read';

const VIEWER: Permission[] = [
  'workspace:read',
  'members:read',
  'secrets:read',
  'agents:read',
  'runs:read',
  'memories:read',
];
const DEVELOPER: Permission[] = [
  ...VIEWER,
  'secrets:write',
  'agents:write',
  'agents:deploy',
  'runs:create',
  'runs:cancel',
  'memories:write',
];
const ADMIN: Permission[] = [
  ...DEVELOPER,
  'workspace:manage',
  'members:manage',
  'tokens:manage',
  'audit:read',
];
const ROLE_PERMISSIONS: Record<NonNullable<Workspace['role']>, readonly Permission[]> = {
  owner: [...ADMIN, 'workspace:delete'],
  admin: ADMIN,
  developer: DEVELOPER,
  viewer: VIEWER,
};

export interface WorkspaceApi {
  me: Me;
  workspace: Workspace;
  workspaces: Workspace[];
  select(workspaceId: string): void;
  can(permission: Permission): boolean;
}

const STORAGE_KEY = 'parley.workspace';
const WorkspaceContext = createContext<WorkspaceApi | null>(null);

export function WorkspaceProvider({ me, children }: { me: Me; children: ReactNode }) {
  const [chosen, setChosen] = useState(() => localStorage.getItem(STORAGE_KEY));
  const api = useMemo<WorkspaceApi | null>(() => {
    const workspace = me.workspaces.find((w) => w.id === chosen) ?? me.workspaces[0];
    if (!workspace) return null;
    const granted = new Set<string>(
      me.token ? me.token.permissions : workspace.role ? ROLE_PERMISSIONS[workspace.role] : [],
    );
    return {
      me,
      workspace,
      workspaces: me.workspaces,
      select(workspaceId) {
        localStorage.setItem(STORAGE_KEY, workspaceId);
        setChosen(workspaceId);
      },
      can: (permission) => granted.has(permission),
    };
  }, [me, chosen]);
  if (!api)
    return (
      <main className="center-page">
        <h1>No workspace</h1>
        <p>This account belongs to no workspace yet. Ask for an invitation.</p>
      </main>
    );
  return <WorkspaceContext.Provider value={api}>{children}</WorkspaceContext.Provider>;
}

export function useWorkspace(): WorkspaceApi {
  const value = useContext(WorkspaceContext);
  if (!value) throw new Error('useWorkspace() outside <WorkspaceProvider>');
  return value;
}
