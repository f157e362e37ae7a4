import type { Run } from '@parley/client';
import {
  type ChildRunState,
  type MessagePart,
  type ParleyError,
  type StreamState,
  type ToolCallPart,
  textOf,
  usageOf,
} from '@parley/protocol';
import { useState } from 'react';
import { describeError } from '../api/errors.ts';
import { formatCount, formatJson, formatMs } from '../components/format.ts';
import { Link } from '../router.tsx';
import type { LiveTurn, TurnPhase } from './use-run.ts';

/*
 * How a conversation reads: each turn is what the person said, then the reply as parts (text,
 * collapsible reasoning, tool-call cards), then one line of numbers (TTFT, tokens, time).
 * Everything that appears while streaming has its room reserved (the numbers line, the tool
 * card's result area), so nothing below jumps as the text grows.
 */

export interface TurnView {
  key: string;
  input: string;
  parts: MessagePart[];
  /** Live or stored numbers; undefined while nothing is known yet. */
  ttftMs?: number | null | undefined;
  inputTokens?: number | undefined;
  outputTokens?: number | undefined;
  durationMs?: number | null | undefined;
  phase: TurnPhase;
  /** The run behind a stored turn (to follow it live while it is still going). */
  runId?: string | undefined;
  error?: ParleyError | undefined;
  failure?: unknown;
  /** Child runs of a live turn (agents the agent called), folded under their tool calls. */
  children?: readonly ChildRunState[];
}

const ERROR_WORDS: Partial<Record<ParleyError['code'], string>> = {
  auth: 'The provider rejected the API key. Check it on the agent’s model step.',
  permission: 'The provider key may not use this model.',
  rate_limited: 'The provider is rate limiting this key. Wait a moment and try again.',
  quota_exhausted: 'The provider account is out of credits or quota.',
  model_not_found: 'The provider does not know this model name.',
  network: 'Parley could not reach the provider.',
  timeout: 'The provider did not answer in time.',
};

export function turnFromLive(turn: LiveTurn): TurnView {
  const usage = usageOf(turn.state);
  const started = turn.state.steps.length > 0;
  return {
    key: turn.id,
    input: turn.input,
    parts: turn.state.parts,
    ttftMs: turn.state.timing?.ttftMs ?? firstStepTtft(turn.state),
    ...(started ? { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens } : {}),
    durationMs: turn.state.timing?.durationMs,
    phase: turn.phase,
    runId: turn.state.runId,
    error: turn.state.error,
    failure: turn.error,
    children: turn.state.children,
  };
}

function firstStepTtft(state: StreamState): number | undefined {
  return state.steps.find((s) => s.timing?.ttftMs !== undefined)?.timing?.ttftMs;
}

export function turnFromRun(key: string, input: string, parts: MessagePart[], run?: Run): TurnView {
  const phase: TurnPhase =
    run?.status === 'failed'
      ? 'failed'
      : run?.status === 'cancelled'
        ? 'stopped'
        : run?.status === 'running' || run?.status === 'queued'
          ? 'streaming'
          : 'finished';
  return {
    key,
    runId: run?.id,
    input,
    parts,
    ttftMs: run?.ttftMs,
    inputTokens: run?.usage.inputTokens,
    outputTokens: run?.usage.outputTokens,
    durationMs: run?.durationMs,
    phase,
    error: run?.error ?? undefined,
  };
}

export function Turn({
  turn,
  onDecide,
}: {
  turn: TurnView;
  onDecide?: ((toolCallId: string, decision: 'approved' | 'denied') => void) | undefined;
}) {
  const streaming = turn.phase === 'starting' || turn.phase === 'streaming';
  return (
    <li className="turn" data-phase={turn.phase}>
      <div className="bubble user">
        <span className="visually-hidden">You said: </span>
        {turn.input}
      </div>
      <TurnNumbers turn={turn} />
      <div className="bubble agent" aria-busy={streaming}>
        <span className="visually-hidden">The agent answered: </span>
        {turn.parts.length === 0 && streaming ? (
          <p className="typing">
            <span className="dots" aria-hidden="true" />
            Thinking…
          </p>
        ) : null}
        {blocksOf(turn.parts).map((block, index, all) => (
          <Block
            key={block.key}
            block={block}
            streaming={streaming && index === all.length - 1}
            onDecide={onDecide}
            childRuns={turn.children ?? []}
          />
        ))}
        <TurnStatus turn={turn} />
      </div>
    </li>
  );
}

type TextLike = Extract<MessagePart, { kind: 'text' | 'refusal' }>;
type Block =
  | { key: string; kind: 'text' | 'refusal'; parts: TextLike[] }
  | { key: string; kind: 'other'; part: Exclude<MessagePart, TextLike> };

/** Consecutive text parts read as one paragraph (a provider may split a reply into several). */
export function blocksOf(parts: readonly MessagePart[]): Block[] {
  const blocks: Block[] = [];
  parts.forEach((part, index) => {
    if (part.kind === 'text' || part.kind === 'refusal') {
      const last = blocks.at(-1);
      if (last && last.kind === part.kind) last.parts.push(part);
      else blocks.push({ key: part.partId, kind: part.kind, parts: [part] });
    } else
      blocks.push({
        key: part.kind === 'tool_call' ? `${part.toolCallId}:${index}` : part.partId,
        kind: 'other',
        part: part as Exclude<MessagePart, TextLike>,
      });
  });
  return blocks;
}

function Block({
  block,
  streaming,
  onDecide,
  childRuns,
}: {
  block: Block;
  streaming: boolean;
  onDecide?: ((toolCallId: string, decision: 'approved' | 'denied') => void) | undefined;
  childRuns: readonly ChildRunState[];
}) {
  if (block.kind === 'other') {
    const { part } = block;
    if (part.kind === 'reasoning')
      return <Reasoning text={part.text} visibility={part.visibility} done={part.done} />;
    const started = childRuns.filter((child) => child.toolCallId === part.toolCallId);
    // Read back from history, a call of an agent keeps its answer in its result.
    const answered = started.length === 0 ? storedChildOf(part) : undefined;
    return (
      <>
        <ToolCard call={part} onDecide={onDecide} />
        {started.map((child) => (
          <ChildRun key={child.childRunId} child={child} />
        ))}
        {answered ? (
          <details className="child-run" data-status="finished">
            <summary>
              <span aria-hidden="true">↳ </span>
              <code>{answered.agent}</code> <span className="muted">done</span>
            </summary>
            <p className="text">{answered.answer}</p>
          </details>
        ) : null}
      </>
    );
  }
  const done = block.parts.at(-1)?.done ?? true;
  return (
    <p className={block.kind === 'refusal' ? 'text refusal' : 'text'}>
      {block.parts.map((p) => p.text).join('')}
      {streaming && !done ? <span className="caret" aria-hidden="true" /> : null}
    </p>
  );
}

function Reasoning({
  text,
  visibility,
  done,
}: {
  text: string;
  visibility: string;
  done: boolean;
}) {
  const hidden = visibility === 'encrypted' || visibility === 'redacted';
  return (
    <details className="reasoning">
      <summary>
        {done ? 'Reasoning' : 'Reasoning…'}
        {visibility === 'summary' ? ' (summary)' : ''}
      </summary>
      <p>{hidden ? 'The provider keeps this reasoning private.' : text}</p>
    </details>
  );
}

const TOOL_STATUS: Record<ToolCallPart['status'], string> = {
  streaming: 'writing arguments…',
  ready: 'running…',
  invalid: 'invalid arguments',
  awaiting_approval: 'waiting for your approval',
  succeeded: 'done',
  failed: 'failed',
};

function ToolCard({
  call,
  onDecide,
}: {
  call: ToolCallPart;
  onDecide?: ((toolCallId: string, decision: 'approved' | 'denied') => void) | undefined;
}) {
  const [deciding, setDeciding] = useState<'approved' | 'denied' | null>(null);
  const args = call.args !== undefined ? formatJson(call.args) : call.argsText;
  const decide = (decision: 'approved' | 'denied') => {
    setDeciding(decision);
    onDecide?.(call.toolCallId, decision);
  };
  return (
    <section className="tool-card" data-status={call.status} aria-label={`Tool call ${call.name}`}>
      <header>
        <code className="tool-name">{call.name}</code>
        <span className={`badge badge-${call.status}`}>{TOOL_STATUS[call.status]}</span>
        {call.result?.durationMs ? (
          <span className="muted">{formatMs(call.result.durationMs)}</span>
        ) : null}
      </header>
      <pre className="tool-args">
        <span className="visually-hidden">Arguments: </span>
        {args || ' '}
      </pre>
      {call.status === 'awaiting_approval' ? (
        <fieldset className="approval">
          <legend>Run this tool?</legend>
          <button
            type="button"
            className="button primary small"
            disabled={deciding !== null || !onDecide}
            onClick={() => decide('approved')}
          >
            Approve
          </button>
          <button
            type="button"
            className="button small"
            disabled={deciding !== null || !onDecide}
            onClick={() => decide('denied')}
          >
            Deny
          </button>
        </fieldset>
      ) : null}
      {call.status === 'invalid' ? <p className="field-error">{call.invalidReason}</p> : null}
      {call.result ? (
        <pre className={call.result.ok ? 'tool-result' : 'tool-result failed'}>
          <span className="visually-hidden">Result: </span>
          {call.result.ok ? formatOutput(call.result.output) : (call.result.error ?? 'failed')}
        </pre>
      ) : null}
    </section>
  );
}

/**
 * A child run (an agent this agent called, docs/multi-agent.md), folded: its agent and how it
 * went; opened, what it said and its own child runs.
 */
function ChildRun({ child }: { child: ChildRunState }) {
  const { state } = child;
  const status =
    state.status === 'finished'
      ? 'done'
      : state.status === 'failed'
        ? (state.error?.code ?? 'failed')
        : state.status === 'aborted'
          ? 'stopped'
          : 'running';
  return (
    <details className="child-run" data-status={state.status}>
      <summary>
        <span aria-hidden="true">↳ </span>
        <code>{child.agent}</code> <span className="muted">{status}</span>
      </summary>
      <p className="text">{textOf(state) || state.error?.message || ' '}</p>
      {state.children.map((grandchild) => (
        <ChildRun key={grandchild.childRunId} child={grandchild} />
      ))}
    </details>
  );
}

/** The answer of an agent a stored tool call asked (an agent tool's result: agent, runId, answer). */
export function storedChildOf(call: ToolCallPart): { agent: string; answer: string } | undefined {
  let output = call.result?.ok ? call.result.output : undefined;
  if (typeof output === 'string') {
    try {
      output = JSON.parse(output);
    } catch {
      return undefined;
    }
  }
  const value = output as { agent?: unknown; runId?: unknown; answer?: unknown } | undefined;
  return value &&
    typeof value.agent === 'string' &&
    typeof value.runId === 'string' &&
    typeof value.answer === 'string'
    ? { agent: value.agent, answer: value.answer }
    : undefined;
}

/** Tool output arrives as JSON text or a value: shown pretty either way. */
function formatOutput(output: unknown): string {
  if (typeof output === 'string') {
    try {
      return formatJson(JSON.parse(output));
    } catch {
      return output;
    }
  }
  return formatJson(output);
}

function TurnStatus({ turn }: { turn: TurnView }) {
  let message: string | null = null;
  let tone = 'muted';
  if (turn.phase === 'reconnecting') message = 'Connection lost: reconnecting…';
  else if (turn.phase === 'stopped') message = 'Stopped.';
  else if (turn.phase === 'lost') {
    tone = 'error';
    message = `The connection dropped. ${describeError(turn.failure).detail}`;
  } else if (turn.phase === 'failed') {
    tone = 'error';
    message = turn.error
      ? (ERROR_WORDS[turn.error.code] ?? turn.error.message)
      : describeError(turn.failure).detail;
  }
  if (!message) return null;
  return (
    <p className={`turn-status ${tone}`} role={tone === 'error' ? 'alert' : 'status'}>
      {message}
    </p>
  );
}

/**
 * TTFT, tokens and time, in a line that is always there (placeholders while streaming), above
 * the reply: nothing sits below the text that grows, and each number has a box of its own, so
 * nothing moves when they arrive.
 */
function TurnNumbers({ turn }: { turn: TurnView }) {
  return (
    <p className="turn-numbers">
      <span>
        TTFT <strong data-testid="ttft">{formatMs(turn.ttftMs)}</strong>
      </span>
      <span>
        <strong data-testid="tokens-in">{formatCount(turn.inputTokens)}</strong> in ·{' '}
        <strong data-testid="tokens-out">{formatCount(turn.outputTokens)}</strong> out tokens
      </span>
      <span>
        <span className="visually-hidden">Took </span>
        {formatMs(turn.durationMs)}
      </span>
      {turn.runId && turn.phase !== 'starting' && turn.phase !== 'streaming' ? (
        <Link to={`/runs/${turn.runId}`} className="trace-link">
          Trace
        </Link>
      ) : null}
    </p>
  );
}
