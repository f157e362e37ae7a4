import type { api } from '@parley/protocol';
import type { ContentPart } from '@parley/providers';

/* A run's input as the API takes it: as the model gets it, and as text for titles. */

/** The input as model content parts (a data URL becomes inline image data). */
export function toContent(input: api.StartRunRequest['input']): string | ContentPart[] {
  if (typeof input === 'string') return input;
  return input.map((part): ContentPart => {
    if (part.type === 'text') return part;
    const data = /^data:([^;,]+);base64,(.*)$/s.exec(part.url);
    return data
      ? { type: 'image', mediaType: data[1]!, data: data[2]! }
      : { type: 'image', url: part.url };
  });
}

/** The text parts of a run's input. */
export function titleText(input: api.StartRunRequest['input']): string {
  return typeof input === 'string'
    ? input
    : input.map((p) => (p.type === 'text' ? p.text : '')).join(' ');
}

/** A conversation's title from its first input: one line, at most 80 characters. */
export function titleOf(input: api.StartRunRequest['input']): string {
  const line = titleText(input).replace(/\s+/g, ' ').trim();
  // By code point: a cut between a surrogate pair would leave text the database cannot store.
  const points = Array.from(line);
  return (points.length > 80 ? `${points.slice(0, 79).join('')}…` : line) || 'Conversation';
}
