import type { api } from '@parley/protocol';
import type { ContentPart, ModelMessage, ModelTool } from '@parley/providers';
import { z } from 'zod';
import { HttpProblem } from '../../http/problem.ts';

/*
 * What a Chat Completions request carries, and how it becomes a Parley run: the model names
 * the agent, the messages are the conversation (the last user message the run's input, those
 * before it its history, those after it the caller's tool calls and results), `tools` the
 * tools the caller runs itself. Partial and loose on purpose: clients send many fields this
 * server has no use for (temperature, seed, logprobs…), and refusing them would break them.
 * @see https://platform.openai.com/docs/api-reference/chat/create
 */

const TextPart = z.looseObject({ type: z.literal('text'), text: z.string().max(100_000) });
const ImagePart = z.looseObject({
  type: z.literal('image_url'),
  image_url: z.looseObject({ url: z.string().max(8_000_000) }),
});
const RefusalPart = z.looseObject({ type: z.literal('refusal'), refusal: z.string() });

const ToolCall = z.looseObject({
  id: z.string().min(1).max(200),
  type: z.literal('function'),
  function: z.looseObject({ name: z.string().min(1).max(200), arguments: z.string() }),
});

const Message = z.discriminatedUnion('role', [
  z.looseObject({
    role: z.enum(['system', 'developer']),
    content: z.union([z.string(), z.array(TextPart)]),
  }),
  z.looseObject({
    role: z.literal('user'),
    content: z.union([
      z.string(),
      z
        .array(z.union([TextPart, ImagePart]))
        .min(1)
        .max(20),
    ]),
  }),
  z.looseObject({
    role: z.literal('assistant'),
    content: z.union([z.string(), z.array(z.union([TextPart, RefusalPart])), z.null()]).optional(),
    refusal: z.string().nullish(),
    tool_calls: z.array(ToolCall).max(128).optional(),
  }),
  z.looseObject({
    role: z.literal('tool'),
    tool_call_id: z.string().min(1).max(200),
    content: z.union([z.string(), z.array(TextPart)]),
  }),
]);
type Message = z.infer<typeof Message>;

const FunctionTool = z.looseObject({
  type: z.literal('function'),
  function: z.looseObject({
    name: z
      .string()
      .regex(/^[a-zA-Z0-9_-]{1,64}$/, 'a function name is 1-64 letters, digits, _ or -'),
    description: z.string().max(10_000).optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
  }),
});

export const ChatCompletionRequestSchema = z.looseObject({
  model: z.string().min(1).max(300),
  messages: z.array(Message).min(1).max(2_000),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
  tools: z.array(FunctionTool).max(128).optional(),
  tool_choice: z.unknown().optional(),
  /** The end user, as the caller names them: the run's `userId`. */
  user: z.string().min(1).max(200).optional(),
  n: z.number().int().min(1).max(1).nullish(),
});
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequestSchema>;

/** `name`, `name@draft` or `name@<version>`: the agent and which of its definitions runs. */
export function parseModel(model: string): { agent: string; version?: number | 'draft' } {
  const at = model.lastIndexOf('@');
  if (at <= 0) return { agent: model };
  const agent = model.slice(0, at);
  const suffix = model.slice(at + 1);
  if (suffix === 'draft') return { agent, version: 'draft' };
  if (/^[1-9][0-9]{0,8}$/.test(suffix)) return { agent, version: Number(suffix) };
  throw new HttpProblem('resource.not_found', modelNotFound(model));
}

export const modelNotFound = (model: string) =>
  `The model \`${model}\` does not exist or you do not have access to it (a model is an agent's name in this token's workspace, optionally with @draft or @<version>).`;

const invalid = (path: string, message: string) =>
  new HttpProblem('request.invalid', message, { errors: [{ path: `body.${path}`, message }] });

const textOf = (content: string | { type: string; text?: string; refusal?: string }[]) =>
  typeof content === 'string'
    ? content
    : content.map((part) => part.text ?? part.refusal ?? '').join('');

type InputPart = Exclude<api.StartRunRequest['input'], string>[number];

function userContent(content: Extract<Message, { role: 'user' }>['content']): string | InputPart[] {
  if (typeof content === 'string') return content;
  return content.map(
    (part): InputPart =>
      part.type === 'text' ? { type: 'text', text: part.text } : imagePart(part.image_url.url),
  );
}

function imagePart(url: string) {
  const mediaType = /^data:([^;,]+)[;,]/.exec(url)?.[1] ?? 'image/*';
  return { type: 'image' as const, mediaType, url };
}

/** One message of the conversation as the model sees it (images as run inputs do). */
function toModelMessage(message: Message, index: number, names: Map<string, string>): ModelMessage {
  switch (message.role) {
    case 'system':
    case 'developer':
      return { role: 'system', content: textOf(message.content) };
    case 'user': {
      const content = userContent(message.content);
      return {
        role: 'user',
        content:
          typeof content === 'string'
            ? content
            : content.map((part): ContentPart => {
                if (part.type === 'text') return part;
                const data = /^data:([^;,]+);base64,(.*)$/s.exec(part.url);
                return data
                  ? { type: 'image', mediaType: data[1]!, data: data[2]! }
                  : { type: 'image', url: part.url };
              }),
      };
    }
    case 'assistant': {
      const calls = (message.tool_calls ?? []).map((call, i) => {
        names.set(call.id, call.function.name);
        return {
          id: call.id,
          name: call.function.name,
          args: parseArguments(call.function.arguments, `messages.${index}.tool_calls.${i}`),
        };
      });
      return {
        role: 'assistant',
        content: message.content == null ? (message.refusal ?? '') : textOf(message.content),
        ...(calls.length ? { toolCalls: calls } : {}),
      };
    }
    case 'tool': {
      const name = names.get(message.tool_call_id);
      if (!name)
        throw invalid(
          `messages.${index}.tool_call_id`,
          `messages[${index}] answers tool call ${message.tool_call_id}, which no earlier assistant message made.`,
        );
      return {
        role: 'tool',
        toolCallId: message.tool_call_id,
        name,
        content: textOf(message.content),
      };
    }
  }
}

function parseArguments(text: string, path: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw invalid(`${path}.function.arguments`, 'The tool call arguments are not valid JSON.');
  }
}

/** The run a request asks for: its input, the history before it, the messages after it. */
export interface RunParts {
  input: api.StartRunRequest['input'];
  history: ModelMessage[];
  after: ModelMessage[];
}

/** Splits the messages at the last user message (a conversation without one is refused). */
export function toRunParts(messages: readonly Message[]): RunParts {
  let last = -1;
  for (let i = messages.length - 1; i >= 0 && last < 0; i--)
    if (messages[i]!.role === 'user') last = i;
  if (last < 0) throw invalid('messages', 'The messages must include a user message.');
  const user = messages[last] as Extract<Message, { role: 'user' }>;
  const input = userContent(user.content) as api.StartRunRequest['input'];
  if (typeof input === 'string' ? input.trim() === '' : input.length === 0)
    throw invalid(`messages.${last}.content`, 'The last user message is empty.');
  if (typeof input === 'string' && input.length > 100_000)
    throw invalid(`messages.${last}.content`, 'The last user message is longer than 100000.');
  const names = new Map<string, string>();
  const converted = messages.map((message, i) => toModelMessage(message, i, names));
  return { input, history: converted.slice(0, last), after: converted.slice(last + 1) };
}

/**
 * The caller's function tools, as offered to the model (`tool_choice: "none"` offers none).
 * One named like a tool of the agent's own is refused when the run starts (run-manager.ts).
 */
export function toClientTools(request: ChatCompletionRequest): ModelTool[] {
  if (request.tool_choice === 'none') return [];
  return (request.tools ?? []).map((tool) => ({
    name: tool.function.name,
    description: tool.function.description ?? '',
    parameters: tool.function.parameters ?? { type: 'object', properties: {} },
  }));
}
