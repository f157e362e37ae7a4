import type { RunStream } from '@parley/client';
import { initialStreamState, reduceEvent, type StreamState } from '@parley/protocol';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useApi } from '../api/client.tsx';

/*
 * One turn of a chat as it streams: the events fold through the protocol's reducer into a
 * StreamState the transcript renders. The client's RunStream resumes a dropped connection by
 * itself (Last-Event-ID); when it gives up, `resume()` follows the run again from the last
 * event seen, so nothing is lost or shown twice.
 */

export type TurnPhase =
  | 'starting'
  | 'streaming'
  | 'reconnecting'
  | 'finished'
  | 'failed'
  | 'stopped'
  | 'lost';

export interface LiveTurn {
  id: string;
  input: string;
  state: StreamState;
  phase: TurnPhase;
  runId?: string;
  conversationId?: string;
  error?: unknown;
}

export interface RunTarget {
  workspaceId: string;
  agent: string;
  version?: number | 'draft';
}

function phaseAfter(state: StreamState): TurnPhase {
  if (state.status === 'finished') return 'finished';
  if (state.status === 'failed') return 'failed';
  if (state.status === 'aborted') return 'stopped';
  return 'lost';
}

export function isActive(turn: LiveTurn | null): boolean {
  return (
    turn !== null &&
    (turn.phase === 'starting' || turn.phase === 'streaming' || turn.phase === 'reconnecting')
  );
}

export function useRun(target: RunTarget, onSettled?: (turn: LiveTurn) => void) {
  const api = useApi();
  const [turn, setTurn] = useState<LiveTurn | null>(null);
  // The turn as the stream reader last left it (the reader owns it; React gets copies).
  const live = useRef<LiveTurn | null>(null);
  const stream = useRef<RunStream | null>(null);
  const aborter = useRef<AbortController | null>(null);
  const settled = useRef(onSettled);
  settled.current = onSettled;

  useEffect(() => () => aborter.current?.abort(), []);

  const update = useCallback((id: string, change: (t: LiveTurn) => LiveTurn) => {
    if (!live.current || live.current.id !== id) return;
    live.current = change(live.current);
    setTurn(live.current);
  }, []);

  /** Reads `run` to its end, folding each event into the turn. */
  const consume = useCallback(
    async (run: RunStream, id: string, signal: AbortSignal) => {
      try {
        for await (const event of run)
          update(id, (t) => ({
            ...t,
            state: reduceEvent(t.state, event),
            phase: 'streaming',
            ...(event.type === 'run.start' && event.conversationId
              ? { conversationId: event.conversationId }
              : {}),
          }));
        if (signal.aborted) return;
        update(id, (t) => ({ ...t, phase: phaseAfter(t.state) }));
      } catch (error) {
        if (signal.aborted) return;
        update(id, (t) => ({ ...t, phase: 'lost', error }));
      }
      if (live.current?.id === id) settled.current?.(live.current);
    },
    [update],
  );

  const reconnecting = useCallback(
    (id: string) => () => update(id, (t) => ({ ...t, phase: 'reconnecting' })),
    [update],
  );

  const send = useCallback(
    async (input: string, conversationId?: string) => {
      aborter.current?.abort();
      const abort = new AbortController();
      aborter.current = abort;
      const id = crypto.randomUUID();
      live.current = {
        id,
        input,
        state: initialStreamState(),
        phase: 'starting',
        ...(conversationId ? { conversationId } : {}),
      };
      setTurn(live.current);
      let run: RunStream;
      try {
        run = await api.runs.stream(
          target.workspaceId,
          target.agent,
          {
            input,
            ...(conversationId ? { conversationId } : {}),
            ...(target.version !== undefined ? { version: target.version } : {}),
          },
          { signal: abort.signal, onReconnect: reconnecting(id) },
        );
      } catch (error) {
        if (abort.signal.aborted) return;
        update(id, (t) => ({ ...t, phase: 'failed', error }));
        if (live.current) settled.current?.(live.current);
        return;
      }
      stream.current = run;
      update(id, (t) => ({ ...t, runId: run.runId }));
      await consume(run, id, abort.signal);
    },
    [api, target.workspaceId, target.agent, target.version, consume, update, reconnecting],
  );

  /** Follows the run again from the last event this turn has (after the client gave up). */
  const resume = useCallback(async () => {
    const current = live.current;
    if (!current?.runId) return;
    const abort = new AbortController();
    aborter.current = abort;
    const run = api.runs.follow(current.runId, current.state.lastSeq, {
      signal: abort.signal,
      onReconnect: reconnecting(current.id),
    });
    stream.current = run;
    update(current.id, (t) => ({ ...t, phase: 'reconnecting' }));
    await consume(run, current.id, abort.signal);
  }, [api, consume, update, reconnecting]);

  /** Follows a run that is already going (a conversation reopened mid-answer) from its start. */
  const attach = useCallback(
    async (runId: string, input: string, conversationId?: string) => {
      aborter.current?.abort();
      const abort = new AbortController();
      aborter.current = abort;
      const id = crypto.randomUUID();
      live.current = {
        id,
        input,
        runId,
        state: initialStreamState(),
        phase: 'reconnecting',
        ...(conversationId ? { conversationId } : {}),
      };
      setTurn(live.current);
      const run = api.runs.follow(runId, 0, {
        signal: abort.signal,
        onReconnect: reconnecting(id),
      });
      stream.current = run;
      await consume(run, id, abort.signal);
    },
    [api, consume, reconnecting],
  );

  const stop = useCallback(async () => {
    await stream.current?.cancel();
  }, []);

  const decide = useCallback(async (toolCallId: string, decision: 'approved' | 'denied') => {
    await stream.current?.decide(toolCallId, decision);
  }, []);

  const clear = useCallback(() => {
    aborter.current?.abort();
    stream.current = null;
    live.current = null;
    setTurn(null);
  }, []);

  return { turn, send, attach, stop, decide, resume, clear };
}
