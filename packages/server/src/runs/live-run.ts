import { createApprovalGate } from '@parley/core';
import { isTerminalEvent, type ParleyEvent } from '@parley/protocol';
import type { TraceContext } from '../telemetry/trace-context.ts';
import type { RunFamily } from './run-tree.ts';

/**
 * Most events a client may be shown beyond what the event log has stored. Events are shown
 * before they are stored (a client never waits for a write), so a crash loses the events it had
 * shown but not stored yet; this window bounds how many, and the server that closes such a run
 * numbers its end after it (see orphan-close.ts), never reusing a seq a client may have seen.
 * At most a few events are ever unstored in practice: only a write stuck this far behind makes
 * clients wait for it.
 */
export const MAX_UNSTORED_EVENTS = 1_000;

/**
 * A run executing in this process: every event it produced, how far the event log has
 * stored them, and the handles to cancel it and answer its approvals. Subscribers never
 * hold events of their own: they read from `events` by seq, so a slow client costs no memory
 * beyond its socket buffer.
 */
export class LiveRun {
  /**
   * Every event this process produced, in order: events[i].seq === offset + i + 1. A run
   * this process continued after another instance stopped starts past its stored log.
   */
  readonly events: ParleyEvent[] = [];
  /** The seq before this process's first event (0 for a run started here). */
  offset: number;
  /**
   * Highest seq clients may see. Events are shown as soon as they are produced, except the
   * terminal one, shown only once it (and so everything before it) is stored: a client that
   * has seen the end can read the run's outcome back at once.
   */
  visibleSeq = 0;
  /** Highest seq the event log has stored. */
  storedSeq = 0;
  /** True once the terminal event is visible (or the run was handed over). */
  closed = false;
  /**
   * Another instance continues the run (this one shut down or lost its lease): nothing past
   * `handoffSeq` is stored or shown from here; followers read the log instead.
   */
  handedOver = false;
  handoffSeq = 0;
  /**
   * Told that events just became visible, with how to get them (in order): the cluster's
   * followers get them, and only a run someone follows pays for the copy.
   */
  onShown?: (events: () => readonly ParleyEvent[]) => void;
  readonly controller = new AbortController();
  readonly approvals = createApprovalGate();
  /** toolCallId → approvalId of approvals the run waits for. */
  readonly pendingApprovals = new Map<string, string>();
  /** Its place in a tree of runs, when agents call agents (docs/multi-agent.md). */
  family?: RunFamily;
  /** The run's place in its trace: what the runs it starts hang from. */
  trace?: TraceContext;
  /** The agent its conversation belongs to: its own, or the one that handed it over. */
  conversationAgentId: string;
  private waiters: (() => void)[] = [];

  readonly id: string;
  readonly workspaceId: string;
  readonly agentId: string;
  readonly conversationId: string;

  constructor(
    id: string,
    workspaceId: string,
    agentId: string,
    conversationId: string,
    storedSeq = 0,
  ) {
    this.id = id;
    this.workspaceId = workspaceId;
    this.agentId = agentId;
    this.conversationAgentId = agentId;
    this.conversationId = conversationId;
    this.offset = storedSeq;
    this.storedSeq = storedSeq;
    this.visibleSeq = storedSeq;
  }

  get lastSeq(): number {
    return this.offset + this.events.length;
  }

  /** Adds the run's next event (the first sets the offset: a continued run may start past a gap). */
  push(event: ParleyEvent) {
    if (this.events.length === 0) this.offset = event.seq - 1;
    this.events.push(event);
  }

  /** Visible events after `seq`, at most `limit` (none before this process's first). */
  visibleAfter(seq: number, limit = 512): ParleyEvent[] {
    const from = Math.max(0, seq - this.offset);
    return this.events.slice(from, Math.min(this.visibleSeq - this.offset, from + limit));
  }

  /** Resolves the next time more events become visible or the run closes. */
  changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private showScheduled = false;

  /**
   * Makes every event produced so far but the terminal one visible (within the unstored
   * window), after the current turn of the event loop: the events one chunk of the model's
   * answer produces leave in one write.
   */
  show() {
    if (this.showScheduled) return;
    this.showScheduled = true;
    setImmediate(() => {
      this.showScheduled = false;
      this.reveal(this.showable());
    });
  }

  /** The highest seq that may be shown now: not the unstored terminal, not past the window. */
  private showable(): number {
    const last = this.events.at(-1);
    const produced = last && isTerminalEvent(last) ? this.lastSeq - 1 : this.lastSeq;
    return Math.min(produced, this.storedSeq + MAX_UNSTORED_EVENTS);
  }

  /** The log stored events up to `seq`: they, and events held back by the window, show. */
  stored(seq: number, closed = false) {
    if (seq > this.storedSeq) this.storedSeq = seq;
    this.reveal(Math.max(seq, this.showable()), closed);
  }

  /**
   * Makes events up to `seq` visible and wakes subscribers; past the window only when the log
   * has failed (what the run still produces is shown from memory) or the run is over.
   */
  reveal(seq: number, closed = false) {
    if (seq > this.visibleSeq) {
      // Followers elsewhere get what clients here see; of a handed-over run, nothing past the
      // handoff (the instance continuing it numbers its own events from there).
      const from = Math.max(0, this.visibleSeq - this.offset);
      const to = (this.handedOver ? Math.min(seq, this.handoffSeq) : seq) - this.offset;
      if (this.onShown && to > from) this.onShown(() => this.events.slice(from, to));
      this.visibleSeq = seq;
    }
    if (closed) this.closed = true;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Keeps the approval bookkeeping in step with the stream. */
  track(event: ParleyEvent) {
    if (event.type === 'tool.approval_requested')
      this.pendingApprovals.set(event.toolCallId, event.approvalId);
    else if (event.type === 'tool.result') this.pendingApprovals.delete(event.toolCallId);
  }
}
