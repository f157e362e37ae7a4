import type { ParleyError } from '@parley/protocol';

/**
 * Thrown by the non-streaming calls (`embed`) with the same typed error a stream would carry.
 * `stream` never throws; it reports errors on `step.finish`.
 */
export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  readonly code: ParleyError['code'];
  readonly error: ParleyError;
  constructor(error: ParleyError) {
    super(error.message);
    this.code = error.code;
    this.error = error;
  }
}
