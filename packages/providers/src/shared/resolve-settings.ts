import type { ModelSettings } from '../model.ts';
import { ModelConfigError } from '../model-config-error.ts';

export interface ResolvedSettings {
  model: string;
  /** The API root without a trailing slash, e.g. `https://api.openai.com/v1`. */
  baseURL: string;
  apiKey: string | undefined;
  headers: Record<string, string>;
  /** Longest silence once the response has started (the stall limit). */
  timeoutMs: number;
  /** Longest wait for the first byte of an answer, retries included. */
  firstByteTimeoutMs: number;
  maxRetries: number;
}

export const DEFAULT_TIMEOUT_MS = 120_000;
export const DEFAULT_FIRST_BYTE_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_RETRIES = 2;

/**
 * Fills in a provider's defaults and checks what it needs. Keys are never read from the
 * environment here: on a shared server that would let one workspace spend the operator's key;
 * the caller passes the key it means to use.
 */
export function resolveSettings(
  settings: ModelSettings,
  defaults: { baseURL: string; requiresApiKey: boolean },
): ResolvedSettings {
  const baseURL = (settings.baseURL ?? defaults.baseURL).replace(/\/+$/, '');
  const protocol = URL.canParse(baseURL) ? new URL(baseURL).protocol : undefined;
  if (protocol !== 'http:' && protocol !== 'https:')
    throw new ModelConfigError(
      `provider ${settings.provider}: baseURL "${baseURL}" is not a URL (use http:// or https://)`,
    );
  if (defaults.requiresApiKey && !settings.apiKey)
    throw new ModelConfigError(`provider ${settings.provider} needs an apiKey`);
  const timeoutMs = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs > 0))
    throw new ModelConfigError(`provider ${settings.provider}: timeoutMs must be positive`);
  const firstByteTimeoutMs = settings.firstByteTimeoutMs ?? DEFAULT_FIRST_BYTE_TIMEOUT_MS;
  if (!(firstByteTimeoutMs > 0))
    throw new ModelConfigError(
      `provider ${settings.provider}: firstByteTimeoutMs must be positive`,
    );
  const maxRetries = settings.maxRetries ?? DEFAULT_MAX_RETRIES;
  if (!(Number.isInteger(maxRetries) && maxRetries >= 0))
    throw new ModelConfigError(
      `provider ${settings.provider}: maxRetries must be a whole number ≥ 0`,
    );
  return {
    model: settings.model,
    baseURL,
    apiKey: settings.apiKey || undefined,
    headers: settings.headers ?? {},
    timeoutMs,
    firstByteTimeoutMs,
    maxRetries,
  };
}
