import type { ContentPart, ModelMessage } from '@parley/providers';
import type { MessagePart, NewMessage } from '@parley/store';

/*
 * Conversation messages between the run loop's provider-neutral shape (ModelMessage) and the
 * store's list of parts. Both directions are lossless for what the run loop writes, so the
 * history a model sees on the next run is what it produced on this one.
 */

function partsOfContent(content: string | ContentPart[]): MessagePart[] {
  if (typeof content === 'string') return content ? [{ kind: 'text', text: content }] : [];
  return content.map((part): MessagePart => {
    if (part.type === 'text') return { kind: 'text', text: part.text };
    if ('url' in part) return { kind: 'file', mediaType: 'image/*', url: part.url };
    return {
      kind: 'file',
      mediaType: part.mediaType,
      url: `data:${part.mediaType};base64,${part.data}`,
    };
  });
}

function contentOfParts(parts: MessagePart[]): string | ContentPart[] {
  const content: ContentPart[] = [];
  for (const part of parts) {
    if (part.kind === 'text') content.push({ type: 'text', text: part.text });
    else if (part.kind === 'file') {
      const data = /^data:([^;,]+);base64,(.*)$/s.exec(part.url);
      content.push(
        data
          ? { type: 'image', mediaType: data[1]!, data: data[2]! }
          : { type: 'image', url: part.url },
      );
    }
  }
  if (content.every((c) => c.type === 'text')) return content.map((c) => c.text).join('');
  return content;
}

export function toStoredMessage(message: ModelMessage, status: 'complete' | 'partial'): NewMessage {
  const metadata = status === 'partial' ? { status } : undefined;
  const base = { role: message.role, ...(metadata ? { metadata } : {}) };
  switch (message.role) {
    case 'system':
      return { ...base, content: partsOfContent(message.content) };
    case 'user':
      return { ...base, content: partsOfContent(message.content) };
    case 'assistant':
      return {
        ...base,
        content: [
          ...(message.reasoning ?? []).map(
            (r): MessagePart => ({
              kind: 'reasoning',
              text: r.text,
              ...(r.replay ? { replay: r.replay } : {}),
            }),
          ),
          ...partsOfContent(message.content),
          ...(message.toolCalls ?? []).map(
            (call): MessagePart => ({
              kind: 'tool_call',
              toolCallId: call.id,
              name: call.name,
              args: call.args,
            }),
          ),
        ],
      };
    case 'tool':
      return {
        ...base,
        content: [
          {
            kind: 'tool_result',
            toolCallId: message.toolCallId,
            ok: !message.isError,
            output: typeof message.content === 'string' ? message.content : message.content,
            ...(message.name ? { name: message.name } : {}),
          },
        ],
      };
  }
}

export function toModelMessage(stored: { role: string; content: MessagePart[] }): ModelMessage {
  const parts = stored.content;
  switch (stored.role) {
    case 'system': {
      const content = contentOfParts(parts);
      return { role: 'system', content: typeof content === 'string' ? content : '' };
    }
    case 'user':
      return { role: 'user', content: contentOfParts(parts) };
    case 'tool': {
      const result = parts.find((p) => p.kind === 'tool_result');
      const output = result?.output;
      return {
        role: 'tool',
        toolCallId: result?.toolCallId ?? 'unknown',
        ...(typeof result?.name === 'string' ? { name: result.name } : {}),
        content:
          typeof output === 'string' || Array.isArray(output)
            ? (output as string | ContentPart[])
            : JSON.stringify(output ?? null),
        ...(result && !result.ok ? { isError: true } : {}),
      };
    }
    default: {
      const reasoning = parts.flatMap((p) =>
        p.kind === 'reasoning'
          ? [{ text: p.text, ...(p.replay ? { replay: p.replay as { provider: string } } : {}) }]
          : [],
      );
      const toolCalls = parts.flatMap((p) =>
        p.kind === 'tool_call' ? [{ id: p.toolCallId, name: p.name, args: p.args ?? {} }] : [],
      );
      return {
        role: 'assistant',
        content: contentOfParts(parts),
        ...(toolCalls.length ? { toolCalls } : {}),
        ...(reasoning.length ? { reasoning } : {}),
      };
    }
  }
}
