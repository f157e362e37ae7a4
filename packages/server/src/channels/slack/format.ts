import { convertMarkdown, type MarkdownDialect } from '../markdown.ts';

/** Slack's mrkdwn (https://api.slack.com/reference/surfaces/formatting): &, < and > escaped. */
const escapeText = (text: string) =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

const MRKDWN: MarkdownDialect = {
  escape: escapeText,
  bold: (t) => `*${t}*`,
  italic: (t) => `_${t}_`,
  strike: (t) => `~${t}~`,
  code: (t) => `\`${escapeText(t)}\``,
  pre: (t) => `\`\`\`${escapeText(t)}\`\`\``,
  link: (label, url) => `<${url}|${label}>`,
};

/** The model's Markdown as Slack mrkdwn. */
export const slackMrkdwn = (markdown: string) => convertMarkdown(markdown, MRKDWN);
