import { createApprovalGate } from '@parley/core';
import { isTerminalEvent, type ParleyEvent } from '@parley/protocol';

/**
 * A run executing in this process: every event it produced, how far the event log has
 * stored them, and the handles to cancel it and answer its approvals. Subscribers never
 * hold events of their own: they read from `events` by seq, so a slow client costs no memory
 * beyond its socket buffer.
 */
export class LiveRun {
  /** Every event so far, in order: events[i].seq === i + 1. */
  readonly events: ParleyEvent[] = [];
  /**
   * Highest seq clients may see. Events are shown as soon as they are produced, except the
   * terminal one, shown only once it (and so everything before it) is stored: a client that
   * has seen the end can read the run's outcome back at once.
   */
  visibleSeq = 0;
  /** True once the terminal event is visible. */
  closed = false;
  readonly controller = new AbortController();
  readonly approvals = createApprovalGate();
  /** toolCallId → approvalId of approvals the run waits for. */
  readonly pendingApprovals = new Map<string, string>();
  private waiters: (() => void)[] = [];

  readonly id: string;
  readonly workspaceId: string;
  readonly agentId: string;
  readonly conversationId: string;

  constructor(id: string, workspaceId: string, agentId: string, conversationId: string) {
    this.id = id;
    this.workspaceId = workspaceId;
    this.agentId = agentId;
    this.conversationId = conversationId;
  }

  get lastSeq(): number {
    return this.events.length;
  }

  /** Visible events after `seq`, at most `limit`. */
  visibleAfter(seq: number, limit = 512): ParleyEvent[] {
    return this.events.slice(seq, Math.min(this.visibleSeq, seq + limit));
  }

  /** Resolves the next time more events become visible or the run closes. */
  changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private showScheduled = false;

  /**
   * Makes every event produced so far but the terminal one visible, after the current turn of
   * the event loop: the events one chunk of the model's answer produces leave in one write.
   */
  show() {
    if (this.showScheduled) return;
    this.showScheduled = true;
    setImmediate(() => {
      this.showScheduled = false;
      const last = this.events.at(-1);
      this.reveal(last && isTerminalEvent(last) ? this.events.length - 1 : this.events.length);
    });
  }

  /** Makes events up to `seq` visible and wakes subscribers. */
  reveal(seq: number, closed = false) {
    if (seq > this.visibleSeq) this.visibleSeq = seq;
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
