/*
 * The model writes Markdown; each platform reads its own format. One small converter, told
 * how the platform writes each construct: code blocks and code spans are kept verbatim
 * (escaped), the rest is escaped first and then given the platform's bold, italic, strike,
 * links and headings. Constructs it does not know stay as text: a message never fails to
 * send for its formatting.
 */

export interface MarkdownDialect {
  escape(text: string): string;
  bold(text: string): string;
  italic(text: string): string;
  strike(text: string): string;
  code(text: string): string;
  pre(text: string, language: string): string;
  link(text: string, url: string): string;
}

const FENCE = /```([\w+-]*)\n?([\s\S]*?)(?:```|$)/g;
const CODE_SPAN = /`([^`\n]+)`/g;

export function convertMarkdown(markdown: string, dialect: MarkdownDialect): string {
  let out = '';
  let last = 0;
  for (const match of markdown.matchAll(FENCE)) {
    out += inline(markdown.slice(last, match.index), dialect);
    out += dialect.pre(match[2]!.replace(/\n$/, ''), match[1] ?? '');
    last = match.index + match[0].length;
  }
  return out + inline(markdown.slice(last), dialect);
}

function inline(text: string, dialect: MarkdownDialect): string {
  let out = '';
  let last = 0;
  for (const match of text.matchAll(CODE_SPAN)) {
    out += prose(text.slice(last, match.index), dialect);
    out += dialect.code(match[1]!);
    last = match.index + match[0].length;
  }
  return out + prose(text.slice(last), dialect);
}

function prose(text: string, d: MarkdownDialect): string {
  return d
    .escape(text)
    .replace(/^#{1,6}[ \t]+(.+)$/gm, (_, title: string) => d.bold(title))
    .replace(/\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/g, (_, label: string, url: string) =>
      d.link(label, url),
    )
    .replace(/\*\*(?=\S)(.+?)(?<=\S)\*\*/g, (_, inner: string) => d.bold(inner))
    .replace(/__(?=\S)(.+?)(?<=\S)__/g, (_, inner: string) => d.bold(inner))
    .replace(/~~(?=\S)(.+?)(?<=\S)~~/g, (_, inner: string) => d.strike(inner))
    .replace(
      /(^|[^\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?!\w)/g,
      (_, lead: string, inner: string) => `${lead}${d.italic(inner)}`,
    )
    .replace(
      /(^|[^\w])_(?=\S)([^_\n]+?)(?<=\S)_(?!\w)/g,
      (_, lead: string, inner: string) => `${lead}${d.italic(inner)}`,
    );
}
