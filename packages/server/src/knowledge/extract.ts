export const KNOWLEDGE_MEDIA_TYPES = [
  'text/plain',
  'text/markdown',
  'text/html',
  'application/pdf',
] as const;
export type KnowledgeMediaType = (typeof KNOWLEDGE_MEDIA_TYPES)[number];

/** The media type of a file name, or undefined for one Parley does not read. */
export function mediaTypeOf(name: string): KnowledgeMediaType | undefined {
  const extension = name.toLowerCase().split('.').pop() ?? '';
  if (['md', 'markdown', 'mdx'].includes(extension)) return 'text/markdown';
  if (['html', 'htm', 'xhtml'].includes(extension)) return 'text/html';
  if (extension === 'pdf') return 'application/pdf';
  if (['txt', 'text', 'csv', 'json', 'yaml', 'yml', 'rst', 'log'].includes(extension))
    return 'text/plain';
  return undefined;
}

const SKIPPED = new Set(['script', 'style', 'noscript', 'template', 'svg', 'head', 'nav']);
const BLOCKS = new Set([
  'p',
  'div',
  'section',
  'article',
  'main',
  'header',
  'footer',
  'aside',
  'li',
  'ul',
  'ol',
  'table',
  'tr',
  'blockquote',
  'pre',
  'br',
  'hr',
  'dd',
  'dt',
  'figcaption',
]);

/**
 * HTML to Markdown-like text the chunker understands: `h1`-`h6` become `#` headings, block
 * elements paragraph breaks, scripts, styles and navigation are dropped (htmlparser2: a
 * streaming parser, forgiving of broken markup; loaded on first use, not at start-up).
 */
export async function htmlToText(html: string): Promise<string> {
  const { Parser } = await import('htmlparser2');
  const out: string[] = [];
  let skipping = 0;
  const parser = new Parser(
    {
      onopentag(name) {
        if (SKIPPED.has(name)) skipping++;
        else if (/^h[1-6]$/.test(name)) out.push(`\n\n${'#'.repeat(Number(name[1]))} `);
        else if (BLOCKS.has(name)) out.push('\n\n');
      },
      ontext(text) {
        if (skipping === 0) out.push(text.replace(/\s+/g, ' '));
      },
      onclosetag(name) {
        if (SKIPPED.has(name)) skipping = Math.max(0, skipping - 1);
        else if (/^h[1-6]$/.test(name) || BLOCKS.has(name)) out.push('\n\n');
      },
    },
    { decodeEntities: true },
  );
  parser.write(html);
  parser.end();
  return out
    .join('')
    .split('\n')
    .map((line) => line.trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** A PDF's text, page by page (unpdf: PDF.js's serverless build, no native code). */
async function pdfToText(bytes: Uint8Array): Promise<string> {
  const { extractText, getDocumentProxy } = await import('unpdf');
  const pdf = await getDocumentProxy(new Uint8Array(bytes));
  const { text } = await extractText(pdf, { mergePages: false });
  return (text as string[]).join('\n\n');
}

/** The text of a document in one of the knowledge media types. */
export async function extractText(
  bytes: Uint8Array,
  mediaType: KnowledgeMediaType,
): Promise<string> {
  if (mediaType === 'application/pdf') return pdfToText(bytes);
  const text = new TextDecoder().decode(bytes);
  return mediaType === 'text/html' ? await htmlToText(text) : text;
}
