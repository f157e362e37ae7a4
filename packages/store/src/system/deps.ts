import type { Tx } from '../db.ts';
import type { ScopeOptions } from '../scope.ts';
import type { Vault } from '../vault/vault.ts';
import type { WorkspaceScope } from '../workspace-scope.ts';

/** What the system surface needs from the store. */
export interface SystemDeps {
  vault: Vault;
  /** A transaction as the runtime role with no workspace set: workspace tables look empty. */
  unscoped<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** A raw transaction inside one workspace (store internals only). */
  scopedTx<T>(workspaceId: string, fn: (tx: Tx) => Promise<T>, options?: ScopeOptions): Promise<T>;
  withWorkspace<T>(
    workspaceId: string,
    fn: (ws: WorkspaceScope) => Promise<T>,
    options?: ScopeOptions,
  ): Promise<T>;
}
