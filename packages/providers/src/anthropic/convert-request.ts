import type {
  AssistantReasoning,
  ContentPart,
  ModelMessage,
  ModelRequest,
  ToolChoice,
} from '../model.ts';

/** Anthropic requires `max_tokens`; this is used when the request does not say. */
export const DEFAULT_MAX_TOKENS = 4096;

/** Thinking budgets for `reasoning.effort` (Anthropic's minimum budget is 1024 tokens). */
const EFFORT_BUDGET = { low: 1024, medium: 4096, high: 16_384 } as const;

type Block = Record<string, unknown>;
interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: Block[];
}

function imageBlock(part: Extract<ContentPart, { type: 'image' }>): Block {
  if ('data' in part)
    return {
      type: 'image',
      source: { type: 'base64', media_type: part.mediaType, data: part.data },
    };
  const inline = /^data:([^;,]+);base64,(.*)$/s.exec(part.url);
  if (inline)
    return { type: 'image', source: { type: 'base64', media_type: inline[1], data: inline[2] } };
  return { type: 'image', source: { type: 'url', url: part.url } };
}

/** Content as blocks; empty text blocks are dropped (Anthropic rejects them). */
function contentBlocks(content: string | ContentPart[]): Block[] {
  const parts: ContentPart[] =
    typeof content === 'string' ? [{ type: 'text', text: content }] : content;
  return parts.flatMap((part) =>
    part.type === 'text'
      ? part.text === ''
        ? []
        : [{ type: 'text', text: part.text }]
      : [imageBlock(part)],
  );
}

/** Thinking blocks to send back: signed thinking and redacted thinking, verbatim. */
function thinkingBlocks(reasoning: AssistantReasoning[] | undefined): Block[] {
  return (reasoning ?? []).flatMap((entry): Block[] => {
    const replay = entry.replay;
    if (replay?.provider !== 'anthropic') return [];
    const data = replay.data as { type?: unknown; data?: unknown } | undefined;
    if (data?.type === 'redacted_thinking') return [{ type: 'redacted_thinking', data: data.data }];
    return replay.signature
      ? [{ type: 'thinking', thinking: entry.text, signature: replay.signature }]
      : [];
  });
}

function toBlocks(message: Exclude<ModelMessage, { role: 'system' }>): AnthropicMessage {
  switch (message.role) {
    case 'user':
      return { role: 'user', content: contentBlocks(message.content) };
    case 'assistant':
      return {
        role: 'assistant',
        // Thinking must come first in an assistant turn that used it (extended thinking docs).
        content: [
          ...thinkingBlocks(message.reasoning),
          ...contentBlocks(message.content),
          ...(message.toolCalls ?? []).map((call) => ({
            type: 'tool_use',
            id: call.id,
            name: call.name,
            input: call.args ?? {},
          })),
        ],
      };
    case 'tool': {
      const blocks = contentBlocks(message.content);
      return {
        role: 'user',
        content: [
          {
            type: 'tool_result',
            tool_use_id: message.toolCallId,
            content: blocks.length > 0 ? blocks : '',
            ...(message.isError ? { is_error: true } : {}),
          },
        ],
      };
    }
  }
}

/**
 * Messages for Anthropic: system text is lifted out (Anthropic has one top-level `system`),
 * tool results travel as `tool_result` blocks in a user message, and consecutive messages of
 * one role are merged, so tool results and a following user message form one user turn.
 */
export function toAnthropicMessages(messages: ModelMessage[]): {
  system: string;
  messages: AnthropicMessage[];
} {
  const system: string[] = [];
  const out: AnthropicMessage[] = [];
  for (const message of messages) {
    if (message.role === 'system') {
      system.push(message.content);
      continue;
    }
    const next = toBlocks(message);
    if (next.content.length === 0) continue;
    const previous = out.at(-1);
    if (previous?.role === next.role) previous.content.push(...next.content);
    else out.push(next);
  }
  return { system: system.join('\n\n'), messages: out };
}

export function toAnthropicToolChoice(choice: ToolChoice): Block {
  if (choice === 'auto') return { type: 'auto' };
  if (choice === 'required') return { type: 'any' };
  if (choice === 'none') return { type: 'none' };
  return { type: 'tool', name: choice.name };
}

/**
 * Thinking tokens count against `max_tokens`, which must exceed `budget_tokens` (extended
 * thinking docs). A limit that leaves no room beyond the budget is read as the limit of the
 * answer after thinking.
 */
function maxTokens(maxOutputTokens: number | undefined, budget: number | undefined): number {
  if (maxOutputTokens === undefined) return (budget ?? 0) + DEFAULT_MAX_TOKENS;
  return budget !== undefined && maxOutputTokens <= budget
    ? budget + maxOutputTokens
    : maxOutputTokens;
}

/** The request body for `POST /v1/messages`, streamed. */
export function toAnthropicBody(model: string, request: ModelRequest): Record<string, unknown> {
  const { system, messages } = toAnthropicMessages(request.messages);
  const budget =
    request.reasoning?.budgetTokens ??
    (request.reasoning?.effort ? EFFORT_BUDGET[request.reasoning.effort] : undefined);
  const tools = request.tools ?? [];
  return {
    model,
    max_tokens: maxTokens(request.maxOutputTokens, budget),
    ...(system ? { system } : {}),
    messages,
    stream: true,
    ...(tools.length > 0
      ? {
          tools: tools.map((tool) => ({
            name: tool.name,
            description: tool.description,
            input_schema: tool.parameters,
          })),
          ...(request.toolChoice ? { tool_choice: toAnthropicToolChoice(request.toolChoice) } : {}),
        }
      : {}),
    // Thinking is not compatible with temperature changes (extended thinking docs).
    ...(budget !== undefined ? { thinking: { type: 'enabled', budget_tokens: budget } } : {}),
    ...(request.temperature !== undefined && budget === undefined
      ? { temperature: request.temperature }
      : {}),
  };
}
