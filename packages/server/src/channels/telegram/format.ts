import { convertMarkdown, type MarkdownDialect } from '../markdown.ts';

/** Telegram's HTML style (parse_mode HTML): only <, > and & are escaped. */
const escapeText = (text: string) =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

const HTML: MarkdownDialect = {
  escape: escapeText,
  bold: (t) => `<b>${t}</b>`,
  italic: (t) => `<i>${t}</i>`,
  strike: (t) => `<s>${t}</s>`,
  code: (t) => `<code>${escapeText(t)}</code>`,
  pre: (t, language) =>
    language
      ? `<pre><code class="language-${escapeText(language)}">${escapeText(t)}</code></pre>`
      : `<pre>${escapeText(t)}</pre>`,
  link: (label, url) => `<a href="${url.replaceAll('"', '&quot;')}">${label}</a>`,
};

/** The model's Markdown as Telegram HTML. */
export const telegramHtml = (markdown: string) => convertMarkdown(markdown, HTML);

/**
 * How long a message is as Telegram counts it (its 4096 limit is on the text after the
 * entities are parsed): the HTML's text without tags, entities counted once, in UTF-16 units.
 */
export function telegramTextLength(html: string): number {
  return html.replace(/<[^>]+>/g, '').replace(/&(amp|lt|gt|quot);/g, '_').length;
}
