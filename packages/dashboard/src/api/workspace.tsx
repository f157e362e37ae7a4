import type { Me, Workspace } from '@parley/client';
import { type Permission, ROLE_PERMISSIONS } from '@parley/protocol';
import { createContext, type ReactNode, useContext, useMemo, useState } from 'react';

/*
 * The workspace the dashboard shows, and what the caller may do there. Permissions come from
 * the server's own role table (@parley/protocol, docs/identity.md §2) so the dashboard hides
 * what would be refused; the server decides anyway, and a refusal is shown as such.
 */

export type { Permission };

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
