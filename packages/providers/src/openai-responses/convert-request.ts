import type { ContentPart, ModelMessage, ModelRequest, ToolChoice } from '../model.ts';
import { argsJson, imageUrlOf, textOfContent } from '../shared/content.ts';
import { isRecord } from '../shared/json.ts';
import { RESPONSES_REPLAY_PROVIDER } from './responses-api.ts';

function inputContent(content: string | ContentPart[]) {
  if (typeof content === 'string') return content;
  return content.map((part) =>
    part.type === 'text'
      ? { type: 'input_text', text: part.text }
      : { type: 'input_image', image_url: imageUrlOf(part) },
  );
}

/**
 * Conversation → Responses `input` items: messages by role, assistant tool calls as
 * `function_call {call_id, name, arguments}` items, tool results as
 * `function_call_output {call_id, output}`, and earlier reasoning items sent back as they came
 * (with `encrypted_content`, which is what lets a stateless, `store: false` request continue).
 */
export function toResponsesInput(messages: ModelMessage[]): unknown[] {
  return messages.flatMap(toResponsesItems);
}

function toResponsesItems(message: ModelMessage): unknown[] {
  switch (message.role) {
    case 'system':
      return [{ role: 'system', content: message.content }];
    case 'user':
      return [{ role: 'user', content: inputContent(message.content) }];
    case 'assistant': {
      const reasoning = (message.reasoning ?? []).flatMap((entry) => {
        const item =
          entry.replay?.provider === RESPONSES_REPLAY_PROVIDER ? entry.replay.data : undefined;
        if (!isRecord(item) || !item.encrypted_content) return [];
        return [
          {
            type: 'reasoning',
            id: item.id,
            summary: Array.isArray(item.summary) ? item.summary : [],
            encrypted_content: item.encrypted_content,
          },
        ];
      });
      const text = textOfContent(message.content);
      return [
        ...reasoning,
        ...(text ? [{ role: 'assistant', content: text }] : []),
        ...(message.toolCalls ?? []).map((call) => ({
          type: 'function_call',
          call_id: call.id,
          name: call.name,
          arguments: argsJson(call.args),
        })),
      ];
    }
    case 'tool':
      return [
        {
          type: 'function_call_output',
          call_id: message.toolCallId,
          output: textOfContent(message.content),
        },
      ];
  }
}

export function toResponsesToolChoice(choice: ToolChoice): unknown {
  return typeof choice === 'string' ? choice : { type: 'function', name: choice.name };
}

/**
 * The body for `POST /responses`. `store: false` keeps the conversation out of OpenAI's storage
 * (Parley keeps its own history and sends it every time); when reasoning is asked for, the
 * encrypted reasoning is included so it can be replayed, and a summary is requested.
 */
export function toResponsesBody(model: string, request: ModelRequest): Record<string, unknown> {
  const tools = request.tools ?? [];
  const effort = request.reasoning?.effort;
  return {
    model,
    input: toResponsesInput(request.messages),
    stream: true,
    store: false,
    ...(tools.length > 0
      ? {
          tools: tools.map((tool) => ({
            type: 'function',
            name: tool.name,
            description: tool.description,
            parameters: tool.parameters,
            strict: false,
          })),
          ...(request.toolChoice ? { tool_choice: toResponsesToolChoice(request.toolChoice) } : {}),
        }
      : {}),
    ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
    ...(request.maxOutputTokens === undefined
      ? {}
      : { max_output_tokens: request.maxOutputTokens }),
    ...(request.reasoning
      ? {
          reasoning: { ...(effort ? { effort } : {}), summary: 'auto' },
          include: ['reasoning.encrypted_content'],
        }
      : {}),
  };
}
