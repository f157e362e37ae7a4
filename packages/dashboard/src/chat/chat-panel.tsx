import {
  type FormEvent,
  type KeyboardEvent,
  useCallback,
  useEffect,
  useRef,
  useState,
} from 'react';
import { useApi } from '../api/client.tsx';
import { useWorkspace } from '../api/workspace.tsx';
import { ErrorBanner } from '../components/error-banner.tsx';
import { Loading } from '../components/page.tsx';
import { turnsFromHistory } from './history.ts';
import { Turn, type TurnView, turnFromLive } from './transcript.tsx';
import { isActive, type LiveTurn, useRun } from './use-run.ts';

/**
 * A conversation with one agent: its stored turns (when continuing one), the turns of this
 * visit, the turn streaming now, and the box to write in. Stop cancels the run on the server.
 */
export function ChatPanel({
  agent,
  conversationId: initialConversation,
  version,
  suggestions = [],
  onConversation,
  onTurnSettled,
}: {
  agent: string;
  conversationId?: string | undefined;
  version?: number | 'draft';
  suggestions?: readonly string[];
  onConversation?: (conversationId: string) => void;
  onTurnSettled?: (turn: LiveTurn) => void;
}) {
  const api = useApi();
  const { workspace, can } = useWorkspace();
  const [conversationId, setConversationId] = useState(initialConversation);
  const [history, setHistory] = useState<{ turns: TurnView[]; error?: unknown } | null>(
    initialConversation ? null : { turns: [] },
  );
  const [past, setPast] = useState<TurnView[]>([]);
  const [draft, setDraft] = useState('');
  const [actionError, setActionError] = useState<unknown>(undefined);
  const bottom = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLTextAreaElement>(null);

  const attach = useRef<(runId: string, input: string, conversationId?: string) => Promise<void>>(
    async () => {},
  );
  const loadHistory = useCallback(async () => {
    if (!initialConversation) return;
    try {
      const [messages, runs] = await Promise.all([
        api.conversations.messages(workspace.id, initialConversation, { last: 200 }),
        api.runs.list(workspace.id, { conversationId: initialConversation, limit: 200 }),
      ]);
      const turns = turnsFromHistory(messages, runs);
      const last = turns.at(-1);
      if (last?.phase === 'streaming' && last.runId) {
        // Still answering (the page was reloaded mid-run): follow it live instead.
        setHistory({ turns: turns.slice(0, -1) });
        void attach.current(last.runId, last.input, initialConversation);
      } else setHistory({ turns });
    } catch (error) {
      setHistory({ turns: [], error });
    }
  }, [api, workspace.id, initialConversation]);
  useEffect(() => {
    void loadHistory();
  }, [loadHistory]);

  const settle = useRef<(turn: LiveTurn) => void>(() => {});
  const run = useRun(
    { workspaceId: workspace.id, agent, ...(version !== undefined ? { version } : {}) },
    (turn) => settle.current(turn),
  );
  attach.current = run.attach;
  settle.current = (turn) => {
    onTurnSettled?.(turn);
    if (turn.phase === 'lost') return; // stays live: the person may resume it
    setPast((p) => [...p, turnFromLive(turn)]);
    run.clear();
  };

  const active = isActive(run.turn);
  const live = run.turn;
  const newConversation = live?.conversationId;
  useEffect(() => {
    if (newConversation && newConversation !== conversationId) {
      setConversationId(newConversation);
      onConversation?.(newConversation);
    }
  }, [newConversation, conversationId, onConversation]);

  // Follow the newest output while the person is at the bottom (and only then).
  const turnCount = (history?.turns.length ?? 0) + past.length + (live ? 1 : 0);
  const liveLength = live ? JSON.stringify(live.state.parts).length : 0;
  // biome-ignore lint/correctness/useExhaustiveDependencies: scrolls when the transcript grows
  useEffect(() => {
    const el = bottom.current;
    if (!el || typeof el.scrollIntoView !== 'function') return;
    const rect = el.getBoundingClientRect();
    if (rect.top < window.innerHeight + 200) el.scrollIntoView({ block: 'end' });
  }, [turnCount, liveLength]);

  const send = (text: string) => {
    const message = text.trim();
    if (!message || active) return;
    setDraft('');
    setActionError(undefined);
    void run.send(message, conversationId);
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    send(draft);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      send(draft);
    }
  };
  const act = (action: () => Promise<unknown>) => {
    setActionError(undefined);
    action().catch(setActionError);
  };

  const mayRun = can('runs:create');
  const empty = (history?.turns.length ?? 0) === 0 && past.length === 0 && !live;
  return (
    <div className="chat-panel">
      <ol className="transcript" aria-label="Conversation" aria-live="off">
        {history === null ? (
          <li>
            <Loading label="Loading the conversation…" />
          </li>
        ) : null}
        {history?.error ? (
          <li>
            <ErrorBanner error={history.error} onRetry={() => void loadHistory()} />
          </li>
        ) : null}
        {history?.turns.map((turn) => (
          <Turn key={turn.key} turn={turn} />
        ))}
        {past.map((turn) => (
          <Turn key={turn.key} turn={turn} />
        ))}
        {live ? (
          <Turn
            turn={turnFromLive(live)}
            onDecide={(id, decision) => act(() => run.decide(id, decision))}
          />
        ) : null}
      </ol>
      {empty && suggestions.length > 0 ? (
        <div className="suggestions">
          <span className="muted">Try:</span>
          {suggestions.map((s) => (
            <button
              key={s}
              type="button"
              className="chip"
              disabled={!mayRun}
              onClick={() => send(s)}
            >
              {s}
            </button>
          ))}
        </div>
      ) : null}
      <div ref={bottom} />
      <p className="visually-hidden" role="status" aria-live="polite">
        {live?.phase === 'finished' ? 'The answer is complete.' : ''}
        {live?.phase === 'reconnecting' ? 'Connection lost, reconnecting.' : ''}
      </p>
      {actionError ? <ErrorBanner error={actionError} /> : null}
      {live?.phase === 'lost' ? (
        <div className="banner banner-warn" role="alert">
          <strong>The stream stopped.</strong> The run may still be going on the server.{' '}
          <button type="button" className="link-button" onClick={() => void run.resume()}>
            Resume
          </button>
        </div>
      ) : null}
      <form className="composer" onSubmit={submit}>
        <label htmlFor="composer-input" className="visually-hidden">
          Message
        </label>
        <textarea
          id="composer-input"
          ref={input}
          rows={2}
          value={draft}
          placeholder={
            mayRun
              ? 'Write a message… (Enter sends, Shift+Enter for a new line)'
              : 'Your role may read, not run.'
          }
          disabled={!mayRun}
          onChange={(event) => setDraft(event.target.value)}
          onKeyDown={onKeyDown}
        />
        {active ? (
          <button
            type="button"
            className="button danger composer-button"
            onClick={() => act(run.stop)}
          >
            Stop
          </button>
        ) : (
          <button
            type="submit"
            className="button primary composer-button"
            disabled={!mayRun || !draft.trim()}
          >
            Send
          </button>
        )}
      </form>
    </div>
  );
}
