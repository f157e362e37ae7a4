/**
 * Every error code the store (@parley/store) throws. Codes are stable (a retired code is never
 * reused) and become the `code` of the server's problem+json answers unchanged; `status` is the
 * HTTP status the server answers with. Kept here, in the one error-code table of every layer
 * (./table.ts), so clients can branch on them with types; the store throws them.
 */
export const STORE_ERROR_CODES = {
  'store.invalid_input': {
    status: 400,
    summary: 'An argument failed validation; `issues` lists the fields.',
  },
  'store.not_found': {
    status: 404,
    summary: 'No such row in this workspace (rows of other workspaces look exactly the same).',
  },
  'store.conflict': { status: 409, summary: 'A unique name or key is already taken.' },
  'store.seq_conflict': {
    status: 409,
    summary:
      'Run events must continue the run log at lastSeq + 1 without gaps; another writer got there first.',
  },
  'store.run_closed': {
    status: 409,
    summary: 'The run already has its terminal event; nothing may follow it.',
  },
  'store.not_owner': {
    status: 409,
    summary:
      "Another server instance holds the run's lease (it took the run over): this one may not extend its log.",
  },
  'store.last_owner': { status: 409, summary: 'A workspace must keep at least one owner.' },
  'store.token_exceeds_parent': {
    status: 422,
    summary:
      'A token may not outlive or outrank the token that mints it: expiry and scopes within its own, and it must be active.',
  },
  'store.slug_retired': {
    status: 409,
    summary:
      "The trust-page slug belonged to a deleted workspace's page and is never issued again: choose another.",
  },
  'store.embedding_dimension_mismatch': {
    status: 422,
    summary:
      "The embedding's size differs from the agent's; reset the agent's embeddings to change models.",
  },
  'store.embedding_model_mismatch': {
    status: 422,
    summary:
      "The embedding model differs from the agent's; reset the agent's embeddings to change models.",
  },
  'store.unreachable': { status: 503, summary: 'The database cannot be reached.' },
  'store.not_migrated': {
    status: 503,
    summary: 'The database schema is missing or older than this code; run migrate().',
  },
  'store.migration_mismatch': {
    status: 500,
    summary: 'An applied migration differs from, or is unknown to, this version of Parley.',
  },
  'store.insufficient_privileges': {
    status: 500,
    summary:
      'The database role lacks a privilege Parley needs (creating roles, the vector extension, SET ROLE).',
  },
  'store.isolation_not_enforced': {
    status: 500,
    summary: 'Enforced isolation was required but the runtime role can bypass row-level security.',
  },
  'store.data_dir_unsafe': {
    status: 500,
    summary: 'The data directory is not a private directory of this user.',
  },
  'store.data_dir_locked': {
    status: 500,
    summary: 'Another process has the embedded database open.',
  },
  'store.scope_closed': {
    status: 500,
    summary: 'A workspace handle was used after its withWorkspace() transaction ended.',
  },
  'store.closed': { status: 500, summary: 'The store was used after close().' },
  'store.database_error': { status: 500, summary: 'The database failed; `pgCode` says how.' },
  'vault.decrypt_failed': {
    status: 500,
    summary:
      'A secret or data key failed authentication: wrong workspace, wrong name, tampering or the wrong master key.',
  },
  'vault.no_master_key': {
    status: 500,
    summary: 'No master key is configured (PARLEY_MASTER_KEY or a key file).',
  },
  'vault.invalid_master_key': {
    status: 500,
    summary: 'The master key setting or key file is malformed.',
  },
  'vault.unknown_master_key_version': {
    status: 500,
    summary: 'A data key is wrapped by a master-key version that is not configured.',
  },
  'vault.key_file_unsafe': {
    status: 500,
    summary: 'The master key file is readable by other users.',
  },
  'vault.rotation_needs_new_key': {
    status: 409,
    summary:
      'Rotation needs a newer master-key version than the ones in use; add one to PARLEY_MASTER_KEY.',
  },
} as const satisfies Record<string, { status: number; summary: string }>;

export type StoreErrorCode = keyof typeof STORE_ERROR_CODES;
