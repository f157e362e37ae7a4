import type { FinishReason } from '@parley/protocol';

/**
 * The Responses API has no finish reason; it is derived from the final status (streaming
 * notes §2.2): `completed` with a function call → tool-calls, else stop; `incomplete` with
 * `max_output_tokens` → length, `content_filter` → content-filter. `raw` keeps the status.
 */
export function mapResponsesFinish(
  status: string,
  incompleteReason: string | undefined,
  calledTools: boolean,
): FinishReason {
  if (status === 'completed') return { unified: calledTools ? 'tool-calls' : 'stop', raw: status };
  if (status === 'incomplete') {
    if (incompleteReason === 'max_output_tokens') return { unified: 'length', raw: status };
    if (incompleteReason === 'content_filter') return { unified: 'content-filter', raw: status };
  }
  return { unified: 'other', raw: status };
}
