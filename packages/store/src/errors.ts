/**
 * Every error code the store throws. Codes are stable (a retired code is never reused) and
 * become the `code` of the server's problem+json answers; `status` is the HTTP status the
 * server should use. Messages never contain secret values or query parameters.
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

/** One failed field of an invalid argument. */
export interface InputIssue {
  /** Dotted path of the field, e.g. `embedding` or `content.0.text`. */
  path: string;
  message: string;
}

export interface StoreErrorOptions {
  issues?: InputIssue[];
  /** Extra machine-readable facts (never secret values). */
  details?: Record<string, unknown>;
  /** The PostgreSQL SQLSTATE of a database error. */
  pgCode?: string;
  cause?: unknown;
}

/** The one error class of the store; `code` says what happened. */
export class StoreError extends Error {
  readonly code: StoreErrorCode;
  readonly status: number;
  readonly issues: InputIssue[] | undefined;
  readonly details: Record<string, unknown> | undefined;
  readonly pgCode: string | undefined;

  constructor(code: StoreErrorCode, message: string, options: StoreErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = code.startsWith('vault.') ? 'VaultError' : 'StoreError';
    this.code = code;
    this.status = STORE_ERROR_CODES[code].status;
    this.issues = options.issues;
    this.details = options.details;
    this.pgCode = options.pgCode;
  }
}

/** Thrown by the secrets vault; a StoreError whose code starts with `vault.`. */
export class VaultError extends StoreError {}

/** Thrown when an embedding does not fit the agent's fixed size (or model). */
export class EmbeddingMismatchError extends StoreError {
  readonly agentId: string;
  readonly expected: { dimensions: number; model: string | null };
  readonly received: { dimensions: number; model: string | null };

  constructor(
    agentId: string,
    expected: { dimensions: number; model: string | null },
    received: { dimensions: number; model: string | null },
  ) {
    const sizeDiffers = expected.dimensions !== received.dimensions;
    const what = sizeDiffers
      ? `${received.dimensions}-dimension embedding, but agent ${agentId} stores ${expected.dimensions}-dimension embeddings`
      : `embedding from model "${received.model}", but agent ${agentId} stores embeddings from "${expected.model}"`;
    super(
      sizeDiffers ? 'store.embedding_dimension_mismatch' : 'store.embedding_model_mismatch',
      `Got a ${what}. Vectors of different models cannot be compared. To switch models, call ` +
        `memories.resetEmbeddings(agentId, { dimensions: ${received.dimensions}${received.model ? `, model: '${received.model}'` : ''} }) ` +
        '(it clears the old vectors; full-text search keeps working meanwhile), then re-embed each memory ' +
        'from memories.listMissingEmbeddings() with memories.setEmbedding().',
      { details: { agentId, expected, received } },
    );
    this.agentId = agentId;
    this.expected = expected;
    this.received = received;
  }
}

export function isStoreError(error: unknown, code?: StoreErrorCode): error is StoreError {
  return error instanceof StoreError && (code === undefined || error.code === code);
}
