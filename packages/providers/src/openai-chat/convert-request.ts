import type {
  AssistantReasoning,
  ContentPart,
  ModelMessage,
  ModelRequest,
  ToolChoice,
} from '../model.ts';
import { argsJson, imageUrlOf, textOfContent } from '../shared/content.ts';

/** The Chat Completions dialect of one provider. */
export interface ChatDialect {
  /** OpenAI wants `max_completion_tokens` (o-series reject `max_tokens`); most servers `max_tokens`. */
  maxTokensField: 'max_completion_tokens' | 'max_tokens';
  /** How `request.reasoning` is asked for. */
  reasoning: (reasoning: NonNullable<ModelRequest['reasoning']>) => Record<string, unknown>;
  /** Extra fields on an assistant message from its reasoning (OpenRouter `reasoning_details`). */
  assistantReasoning?: (reasoning: AssistantReasoning[]) => Record<string, unknown>;
}

/** `reasoning_effort`: OpenAI, Ollama, vLLM and most compatible servers. */
export const effortReasoning: ChatDialect['reasoning'] = (reasoning) =>
  reasoning.effort ? { reasoning_effort: reasoning.effort } : {};

function userContent(content: string | ContentPart[]) {
  if (typeof content === 'string') return content;
  return content.map((part) =>
    part.type === 'text'
      ? { type: 'text', text: part.text }
      : { type: 'image_url', image_url: { url: imageUrlOf(part) } },
  );
}

export function toChatMessages(messages: ModelMessage[], dialect: ChatDialect): unknown[] {
  return messages.map((message) => toChatMessage(message, dialect));
}

function toChatMessage(message: ModelMessage, dialect: ChatDialect): unknown {
  switch (message.role) {
    case 'system':
      return { role: 'system', content: message.content };
    case 'user':
      return { role: 'user', content: userContent(message.content) };
    case 'assistant': {
      const text = textOfContent(message.content);
      const toolCalls = message.toolCalls ?? [];
      return {
        role: 'assistant',
        // OpenAI: content may be null when the message only calls tools.
        content: text === '' && toolCalls.length > 0 ? null : text,
        ...(toolCalls.length > 0
          ? {
              tool_calls: toolCalls.map((call) => ({
                id: call.id,
                type: 'function',
                function: { name: call.name, arguments: argsJson(call.args) },
              })),
            }
          : {}),
        ...(message.reasoning?.length && dialect.assistantReasoning
          ? dialect.assistantReasoning(message.reasoning)
          : {}),
      };
    }
    case 'tool':
      return {
        role: 'tool',
        tool_call_id: message.toolCallId,
        content: textOfContent(message.content),
      };
  }
}

export function toChatToolChoice(choice: ToolChoice): unknown {
  return typeof choice === 'string'
    ? choice
    : { type: 'function', function: { name: choice.name } };
}

/**
 * The request body for `POST /chat/completions`. Always streams and asks for the usage chunk
 * (`stream_options.include_usage`): without it Chat Completions reports no usage at all.
 */
export function toChatBody(
  model: string,
  request: ModelRequest,
  dialect: ChatDialect,
): Record<string, unknown> {
  const tools = request.tools ?? [];
  return {
    model,
    messages: toChatMessages(request.messages, dialect),
    stream: true,
    stream_options: { include_usage: true },
    ...(tools.length > 0
      ? {
          tools: tools.map((tool) => ({
            type: 'function',
            function: {
              name: tool.name,
              description: tool.description,
              parameters: tool.parameters,
            },
          })),
          ...(request.toolChoice ? { tool_choice: toChatToolChoice(request.toolChoice) } : {}),
        }
      : {}),
    ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
    ...(request.maxOutputTokens === undefined
      ? {}
      : { [dialect.maxTokensField]: request.maxOutputTokens }),
    ...(request.reasoning ? dialect.reasoning(request.reasoning) : {}),
  };
}
