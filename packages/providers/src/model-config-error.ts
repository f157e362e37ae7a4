import type { ProviderErrorCode } from '@parley/protocol';

/** A model setting that names no provider Parley knows, or lacks what the provider needs. */
export class ModelConfigError extends Error {
  override readonly name = 'ModelConfigError';
  readonly code: ProviderErrorCode = 'provider.invalid_config';
}
