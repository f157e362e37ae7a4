import type { ParleyEvent, StreamState } from '@parley/protocol';
import {
  initialStreamState,
  isTerminalEvent,
  reduceEvent,
  textOf,
  usageOf,
} from '@parley/protocol';
import { type Io, painter } from './io.ts';

const clip = (text: string, max = 160) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
const oneLine = (value: unknown) =>
  clip(typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null'));

/**
 * Prints a run as it streams: text as it arrives, reasoning dimmed, tool calls and results as
 * compact one-line blocks, retries and the outcome. Same output for `parley run` and `chat`.
 */
export function createRenderer(io: Io) {
  const p = painter(io);
  const names = new Map<string, string>();
  /** Child runs (agents this run called), folded until each ends, then printed under it. */
  const children = new Map<string, StreamState>();
  let open: 'text' | 'reasoning' | undefined;
  let column = 0;
  const out = (text: string) => {
    io.stdout.write(text);
    const nl = text.lastIndexOf('\n');
    column = nl >= 0 ? text.length - nl - 1 : column + text.length;
  };
  const newline = () => {
    if (column > 0) out('\n');
    open = undefined;
  };
  return {
    event(event: ParleyEvent) {
      switch (event.type) {
        case 'reasoning.delta':
          if (open !== 'reasoning') newline();
          open = 'reasoning';
          out(p.dim(event.delta));
          break;
        case 'text.delta':
          if (open !== 'text') newline();
          open = 'text';
          out(event.delta);
          break;
        case 'tool_call.start':
          names.set(event.toolCallId, event.name);
          break;
        case 'tool_call.complete':
          newline();
          out(`${p.cyan(`→ ${event.name}`)}${p.dim(`(${clip(event.argsText, 120)})`)}\n`);
          break;
        case 'tool_call.invalid':
          newline();
          out(`${p.yellow(`⚠ ${event.name} rejected: ${event.reason}`)}\n`);
          break;
        case 'tool.approval_requested':
          newline();
          out(`${p.yellow(`? ${names.get(event.toolCallId) ?? 'a tool'} needs your approval`)}\n`);
          break;
        case 'tool.result': {
          newline();
          const name = names.get(event.toolCallId) ?? 'tool';
          const took = p.dim(` ${Math.round(event.durationMs)} ms`);
          out(
            event.ok
              ? `${p.green(`← ${name}`)} ${p.dim(oneLine(event.output))}${took}\n`
              : `${p.red(`← ${name} failed`)} ${p.dim(oneLine(event.error))}${took}\n`,
          );
          break;
        }
        case 'memory.write':
          newline();
          out(`${p.magenta('✎ remembered')} ${p.dim(oneLine(event.summary))}\n`);
          break;
        case 'knowledge.retrieve':
          if (event.chunks.length === 0) break;
          newline();
          out(
            `${p.magenta('⌕ consulted')} ${p.dim([...new Set(event.chunks.map((c) => c.document))].join(', '))}\n`,
          );
          break;
        case 'step.reset':
          newline();
          out(
            `${p.yellow(`↻ ${event.reason === 'fallback' ? 'switching model' : 'retrying'}: ${event.error?.code ?? ''}`)}\n`,
          );
          break;
        case 'run.error':
          newline();
          out(`${p.red(`✗ ${event.error.code}: ${event.error.message}`)}\n`);
          break;
        case 'run.abort':
          newline();
          out(`${p.yellow(`■ stopped (${event.reason})`)}\n`);
          break;
        case 'run.finish':
          newline();
          break;
        case 'run.child': {
          const child = event.event as ParleyEvent;
          const state = reduceEvent(children.get(event.childRunId) ?? initialStreamState(), child);
          children.set(event.childRunId, state);
          if (!isTerminalEvent(child)) break;
          newline();
          out(foldedChild(event.agent, state, 1));
          break;
        }
        default:
          break;
      }
    },
    /** Folded child runs (tests, and a turn's end). */
    children: () => children,
    /** `ttft 212 ms · 1,204 in / 56 out tokens · 1.4 s`, after each turn. */
    summary(state: StreamState, elapsedMs: number): string {
      const usage = state.runUsage ?? usageOf(state);
      const ttft =
        state.timing?.ttftMs ??
        state.steps.find((s) => s.timing?.ttftMs !== undefined)?.timing?.ttftMs;
      const parts = [
        ttft !== undefined ? `ttft ${Math.round(ttft)} ms` : undefined,
        `${usage.inputTokens.toLocaleString('en')} in / ${usage.outputTokens.toLocaleString('en')} out tokens`,
        usage.costUsd ? `$${usage.costUsd.toFixed(4)}` : undefined,
        `${(elapsedMs / 1000).toFixed(1)} s`,
      ].filter(Boolean);
      return p.dim(parts.join(' · '));
    },
  };
}

/**
 * A child run folded under the call that started it: its agent, what it said (clipped) or how
 * it ended, and its own children one level further in.
 */
function foldedChild(agent: string, state: StreamState, depth: number): string {
  const indent = '  '.repeat(depth);
  const said =
    state.status === 'finished'
      ? clip(textOf(state).replace(/\s+/g, ' ').trim(), 200)
      : state.status === 'failed'
        ? `✗ ${state.error?.code ?? 'failed'}: ${state.error?.message ?? ''}`
        : `■ ${state.abort?.reason ?? 'stopped'}`;
  const nested = state.children
    .map((child) => foldedChild(child.agent, child.state, depth + 1))
    .join('');
  return `${indent}↳ ${agent}: ${said}\n${nested}`;
}
