import { type AgentDefinition, type ResumePoint, type RunStore, resumePointOf } from '@parley/core';
import type { ParleyEvent } from '@parley/protocol';
import type { ContentPart, ModelMessage } from '@parley/providers';
import type { Agent, AgentVersion, Run, TrustPageContent, WorkspaceScope } from '@parley/store';
import { definitionOf } from './agent-resolver.ts';
import { MAX_UNSTORED_EVENTS } from './live-run.ts';
import { toModelMessage, toStoredMessage } from './messages.ts';

/** Everything an instance needs to continue a run another one stopped executing. */
export interface Continuation {
  run: Run;
  agent: Agent;
  version: AgentVersion | null;
  definition: AgentDefinition;
  trust: TrustPageContent;
  /** The run's input, as its user message was stored. */
  input: string | ContentPart[];
  /** The conversation before this run. */
  history: ModelMessage[];
  point: ResumePoint;
  /** Seqs the stopped instance may have shown past its log (crash: not a clean handoff). */
  gapUpTo?: number;
}

/** Why a run cannot be continued (it then ends with a typed run.error). */
export class NotContinuable extends Error {}

/** Every stored event of a run, in order. */
export async function storedLog(ws: WorkspaceScope, runId: string): Promise<ParleyEvent[]> {
  const events: ParleyEvent[] = [];
  for (;;) {
    const page = await ws.runs.listRunEvents(runId, {
      afterSeq: events.at(-1)?.seq ?? 0,
      limit: 10_000,
    });
    events.push(...page);
    if (page.length < 10_000) return events;
  }
}

/**
 * Reads what continuing `runId` needs, in the caller's transaction. `clean` is a handoff
 * (SIGTERM): that instance stored everything it showed, so no `run.gap` is needed. Messages
 * the stopped instance kept in the log but not in the conversation are saved here first, so
 * the conversation holds exactly the run's finished steps before it goes on.
 */
export async function readContinuation(
  ws: WorkspaceScope,
  runId: string,
  clean: boolean,
): Promise<Continuation | undefined> {
  const run = await ws.runs.get(runId);
  if (!run || run.finishedAt || !run.conversationId) return undefined;
  const log = await storedLog(ws, runId);
  const point = resumePointOf(log);
  if (point.ended) return undefined;
  // On the run's clock, later than anything a client saw, stored or not (t stays monotonic):
  // t counts from when the run's stamper was made, which is its first event's `startedAt`
  // less that event's own t (the run may load its history before it starts: under load,
  // seconds; counting from `startedAt` numbered a takeover's run.gap before events the dead
  // instance had shown). The row is written later still.
  const first = log[0];
  const start = first?.type === 'run.start' ? Date.parse(first.startedAt) - first.t : Number.NaN;
  const origin = Number.isNaN(start)
    ? run.createdAt.getTime()
    : Math.min(start, run.createdAt.getTime());
  point.lastT = Math.max(point.lastT, Date.now() - origin);
  const agent = await ws.agents.get(run.agentId);
  if (!agent) throw new NotContinuable('its agent was deleted');
  const version = run.agentVersionId ? await findVersion(ws, agent, run.agentVersionId) : null;
  if (run.agentVersionId && !version) throw new NotContinuable('its agent version is gone');
  const definition = definitionOf(agent, version);
  const stored = await ws.messages.list(run.conversationId, { last: 500 });
  const own = stored.filter((m) => m.runId === runId);
  const inputMessage = own.find((m) => m.role === 'user');
  if (!inputMessage) throw new NotContinuable('its input was never stored');
  const input = toModelMessage(inputMessage).content as string | ContentPart[];
  await saveMissingSteps(ws, run.conversationId, runId, own.length - 1, point.messages);
  const trust = (await ws.trust.getPage()).content;
  return {
    run,
    agent,
    version,
    definition,
    trust,
    input,
    history: stored.filter((m) => m.runId !== runId).map(toModelMessage),
    point,
    ...(clean ? {} : { gapUpTo: point.lastSeq + MAX_UNSTORED_EVENTS }),
  };
}

async function findVersion(ws: WorkspaceScope, agent: Agent, versionId: string) {
  const versions = await ws.agents.listVersions(agent.id, { limit: 500 });
  return versions.find((v) => v.id === versionId) ?? null;
}

/** Saves the finished steps' messages the conversation lacks (the log had them). */
async function saveMissingSteps(
  ws: WorkspaceScope,
  conversationId: string,
  runId: string,
  saved: number,
  messages: readonly ModelMessage[],
) {
  const missing = messages.slice(Math.max(0, saved));
  if (missing.length === 0) return;
  await ws.messages.append(
    conversationId,
    missing.map((message) => ({ ...toStoredMessage(message, 'complete'), runId })),
  );
}

/**
 * The run port of a continued run: its history is the conversation before it (read with the
 * continuation), and its input is stored already.
 */
export function continuedRunPort(port: RunStore, history: ModelMessage[]): RunStore {
  return {
    ...port,
    loadHistory: async () => history,
    saveMessage: async (message) => {
      if (message.message.role !== 'user') await port.saveMessage(message);
    },
  };
}
