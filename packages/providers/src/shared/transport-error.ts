import { type ParleyError, streamError } from '@parley/protocol';
import type { ExpiredLimit, RequestSignal } from './request-signal.ts';

/**
 * Classifies a thrown fetch or body-read failure. A caller's abort is `cancelled`, our own time
 * limit is `timeout`; otherwise a failure before the response headers is `network` (refused,
 * reset, DNS), and one while reading the body is `truncated_stream`: undici reports a socket
 * closed mid-stream as `TypeError: terminated` (see OpenRouterTeam/ai-sdk-provider#412).
 */
export function transportError(
  thrown: unknown,
  request: RequestSignal,
  phase: 'connect' | 'body',
  provider: string,
): ParleyError {
  if (request.reason === 'cancelled')
    return streamError('cancelled', 'the request was cancelled', { provider });
  if (request.reason === 'timeout' && request.expired)
    return streamError('timeout', timeoutMessage(request.expired), { provider });
  const detail = describe(thrown);
  return phase === 'connect'
    ? streamError('network', `could not reach the provider: ${detail}`, { provider })
    : streamError('truncated_stream', `the connection closed mid-stream: ${detail}`, { provider });
}

/** Says which limit expired and which agent.yaml setting sets it. */
export function timeoutMessage(expired: ExpiredLimit): string {
  const seconds = `${Math.round(expired.ms / 100) / 10} s`;
  return expired.limit === 'first_byte'
    ? `the provider sent no first byte within ${seconds} (model.timeouts.firstByteSeconds)`
    : `the provider sent nothing for ${seconds} mid-stream (model.timeouts.stallSeconds)`;
}

function describe(thrown: unknown): string {
  if (!(thrown instanceof Error)) return String(thrown);
  const cause = thrown.cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return `${thrown.message} (${typeof code === 'string' ? `${code}: ` : ''}${cause.message})`;
  }
  return thrown.message;
}
