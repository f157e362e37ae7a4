import type { ContentPart } from '../model.ts';

/** The text of a message's content (images dropped), for places that only take text. */
export function textOfContent(content: string | ContentPart[]): string {
  if (typeof content === 'string') return content;
  return content
    .filter((part): part is Extract<ContentPart, { type: 'text' }> => part.type === 'text')
    .map((part) => part.text)
    .join('');
}

/** An image part as a URL: remote URLs as they are, base64 data as a `data:` URL. */
export function imageUrlOf(part: Extract<ContentPart, { type: 'image' }>): string {
  return 'url' in part ? part.url : `data:${part.mediaType};base64,${part.data}`;
}

/** Tool arguments as the JSON text providers expect back (`{}` when there were none). */
export function argsJson(args: unknown): string {
  return JSON.stringify(args ?? {});
}
