import type { ContentPart, ModelMessage } from '@parley/providers';
import type { AgentDefinition } from '../agent/definition.ts';
import type { MemoryHit } from '../memory/memory-store.ts';

const DEFAULT_CONTEXT_WINDOW = 128_000;
/** Share of the window kept for the answer and tool results. */
const OUTPUT_RESERVE = 0.25;

/** A cheap, provider-independent token estimate (≈ 4 characters per token). */
export function estimateTokens(message: ModelMessage): number {
  return Math.ceil(JSON.stringify(message.content).length / 4) + 4;
}

/** The system message: instructions, persona, examples, provider context and recalled memory. */
export function systemPrompt(
  agent: AgentDefinition,
  provided: string[],
  memories: MemoryHit[],
): string {
  const sections = [agent.instructions.trim()];
  if (agent.bio.length)
    sections.push(`About you:\n${agent.bio.map((line) => `- ${line}`).join('\n')}`);
  if (agent.style.length)
    sections.push(`Style:\n${agent.style.map((line) => `- ${line}`).join('\n')}`);
  if (agent.topics.length) sections.push(`Topics you know well: ${agent.topics.join(', ')}.`);
  if (agent.examples.length) {
    const dialogues = agent.examples.map((dialogue) =>
      dialogue
        .map((turn) => `${turn.role === 'user' ? 'User' : 'You'}: ${turn.content}`)
        .join('\n'),
    );
    sections.push(`Example conversations:\n${dialogues.join('\n---\n')}`);
  }
  for (const text of provided) sections.push(text);
  if (memories.length) {
    sections.push(
      `Things you remember (may be relevant):\n${memories.map((m) => `- ${m.text}`).join('\n')}`,
    );
  }
  return sections.join('\n\n');
}

/**
 * Keeps the most recent history that fits the model's window beside the system prompt and
 * the new input. A tool result is never kept without the assistant message that called it.
 */
export function trimHistory(
  agent: AgentDefinition,
  system: string,
  history: ModelMessage[],
  input: ModelMessage,
): ModelMessage[] {
  const window = agent.model.contextWindow ?? DEFAULT_CONTEXT_WINDOW;
  let budget =
    Math.floor(window * (1 - OUTPUT_RESERVE)) -
    Math.ceil(system.length / 4) -
    estimateTokens(input);
  let start = history.length;
  while (start > 0) {
    const cost = estimateTokens(history[start - 1]!);
    if (cost > budget) break;
    budget -= cost;
    start--;
  }
  while (start < history.length && history[start]!.role === 'tool') start++;
  return history.slice(start);
}

export function userMessage(input: string | ContentPart[]): ModelMessage {
  return { role: 'user', content: input };
}

export function inputText(input: string | ContentPart[]): string {
  return typeof input === 'string'
    ? input
    : input.map((p) => (p.type === 'text' ? p.text : '')).join(' ');
}
