import { STORE_ERROR_CODES, type StoreErrorCode } from '@parley/protocol';

/*
 * The store's error codes (with their HTTP statuses) live in @parley/protocol's error-code
 * table, with every other layer's; the store throws them and re-exports them for its callers.
 */
export { STORE_ERROR_CODES, type StoreErrorCode };

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

/** A transaction's setup statement (sent with its BEGIN) failed: `cause` says why. */
export class SetupFailed extends Error {
  override readonly name = 'SetupFailed';
  constructor(cause: unknown) {
    super('The transaction could not be set up.', { cause });
  }
}
