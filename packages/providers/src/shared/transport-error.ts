import { type ParleyError, streamError } from '@parley/protocol';
import type { RequestSignal } from './request-signal.ts';

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
  timeoutMs: number,
): ParleyError {
  if (request.reason === 'cancelled')
    return streamError('cancelled', 'the request was cancelled', { provider });
  if (request.reason === 'timeout')
    return streamError('timeout', `the provider sent nothing for ${timeoutMs} ms`, {
      provider,
    });
  const detail = describe(thrown);
  return phase === 'connect'
    ? streamError('network', `could not reach the provider: ${detail}`, { provider })
    : streamError('truncated_stream', `the connection closed mid-stream: ${detail}`, { provider });
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
