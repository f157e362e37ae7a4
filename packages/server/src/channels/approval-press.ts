import type { ButtonPress } from '@parley/core';
import type { Store } from '@parley/store';
import type { RunManager } from '../runs/run-manager.ts';
import { approvalCallOf, decodeApproval } from './approvals.ts';
import { type ChannelTarget, endUserOf } from './conversation.ts';

/* An approval button pressed on a platform: the answer the person who pressed it is shown. */

const SYSTEM = { actor: { type: 'system' as const } };

/** The notice shown to whoever pressed it. */
export const NOT_YOURS = 'Only the person who asked can answer this.';

/** Applies an approval button: only the person the run answers may decide it. */
export async function decideApproval(
  deps: { store: Store; runs: () => RunManager },
  target: ChannelTarget,
  press: ButtonPress,
): Promise<string> {
  const key = decodeApproval(press.data);
  if (!key) return 'This button is not Parley’s.';
  const live = deps.runs().get(key.runId);
  const found = await deps.store.withWorkspace(
    target.workspaceId,
    async (ws) => {
      const run = await ws.runs.get(key.runId);
      if (!run?.conversationId || run.agentId !== target.agentId) return undefined;
      const conversation = await ws.conversations.get(run.conversationId);
      const events = live?.events ?? (await ws.runs.listRunEvents(run.id, { limit: 10_000 }));
      return { userId: conversation?.userId, toolCallId: approvalCallOf(events, key.index) };
    },
    SYSTEM,
  );
  if (!found?.toolCallId) return 'This request is no longer waiting.';
  if (found.userId !== endUserOf(target.platform, press.userId)) return NOT_YOURS;
  const taken = await deps
    .runs()
    .decide(target.workspaceId, key.runId, found.toolCallId, key.decision);
  if (!taken) return 'This request is no longer waiting.';
  return key.decision === 'approved' ? '✅ Allowed.' : '❌ Denied.';
}
