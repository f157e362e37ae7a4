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

/**
 * Links, bold, strike and italics in one pass, so what one construct writes (Slack's bold is
 * `*x*`, Markdown's italics) is never read again as another.
 */
const SPANS =
  /\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)|\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__|~~(?=\S)(.+?)(?<=\S)~~|(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])|(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])/g;

function spans(escaped: string, d: MarkdownDialect): string {
  return escaped.replace(
    SPANS,
    (
      _,
      label?: string,
      url?: string,
      bold?: string,
      bold2?: string,
      strike?: string,
      italic?: string,
      italic2?: string,
    ) => {
      if (label !== undefined && url !== undefined) return d.link(label, url);
      if (bold !== undefined || bold2 !== undefined) return d.bold(spans(bold ?? bold2!, d));
      if (strike !== undefined) return d.strike(spans(strike, d));
      return d.italic(spans(italic ?? italic2 ?? '', d));
    },
  );
}

function prose(text: string, d: MarkdownDialect): string {
  return d
    .escape(text)
    .split('\n')
    .map((line) => {
      const heading = /^#{1,6}[ \t]+(.+)$/.exec(line);
      return heading ? d.bold(spans(heading[1]!, d)) : spans(line, d);
    })
    .join('\n');
}
