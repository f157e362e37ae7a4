import type { Conversation, WorkspaceScope } from '@parley/store';
import { allStored, type MergeKind, mergeOrAlone, type Outcome } from './workspace-batcher.ts';

type StartItem = Parameters<WorkspaceScope['runs']['startMany']>[0][number];
type MessageItem = Parameters<WorkspaceScope['messages']['appendMany']>[0][number];

/** A run's rows as the run manager asks for them: its conversation found or created, then the run. */
export interface RunStart {
  /** The conversation, created if it does not exist yet and `check` says so. */
  conversation: NonNullable<StartItem['conversation']>;
  /** A conversation created for this run: nothing to look up. */
  fresh: boolean;
  /**
   * Given the conversation found (null: none), whether it must be created; throws to refuse
   * the run (another agent's conversation, one that should exist).
   */
  check(existing: Conversation | null): boolean;
  run: StartItem['run'];
}

/**
 * Runs starting in one round (a burst): the conversations they continue read in one query,
 * the new conversations and the runs written in two statements, whatever their number.
 */
export const RUN_STARTS: MergeKind<RunStart> = {
  name: 'run starts',
  // The run's messages and events refer to its row (and a new conversation's).
  creates: true,
  async together(ws, starts) {
    const lookups = starts.filter((s) => !s.fresh).map((s) => s.conversation.id!);
    const found = new Map(
      (lookups.length ? await ws.conversations.getMany(lookups) : []).map((c) => [c.id, c]),
    );
    const outcomes: Outcome[] = new Array(starts.length);
    const items: StartItem[] = [];
    const placed: number[] = [];
    starts.forEach((start, i) => {
      try {
        const create = start.fresh || start.check(found.get(start.conversation.id!) ?? null);
        items.push({ ...(create ? { conversation: start.conversation } : {}), run: start.run });
        placed.push(i);
      } catch (error) {
        outcomes[i] = { ok: false, value: error };
      }
    });
    const stored = await mergeOrAlone(
      ws,
      items,
      async (all) => allStored(await ws.runs.startMany(all)),
      async (item) => (await ws.runs.startMany([item]))[0],
    );
    placed.forEach((i, k) => {
      outcomes[i] = stored[k]!;
    });
    return outcomes;
  },
};

/** Messages of the round's runs: one counter update and one insert, whatever their number. */
export const MESSAGE_APPENDS: MergeKind<MessageItem> = {
  name: 'messages',
  keepsLaneOrder: true,
  together: (ws, appends) =>
    mergeOrAlone(
      ws,
      appends,
      async (all) => allStored(await ws.messages.appendMany(all)),
      (one) => ws.messages.append(one.conversationId, one.messages),
    ),
};
