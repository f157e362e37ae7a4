/** One piece of a document, as stored and retrieved. */
export interface Chunk {
  position: number;
  /** The headings above it, outermost first, joined with " > " (null when there are none). */
  heading: string | null;
  content: string;
}

export interface ChunkOptions {
  /** Target length in characters (a chunk exceeds it only by a word). */
  size: number;
  /** Characters of the previous chunk of the same section repeated at the start of the next. */
  overlap: number;
}

interface Section {
  heading: string | null;
  paragraphs: string[];
}

const HEADING = /^(#{1,6})\s+(.+?)\s*#*\s*$/;

/** Markdown-style text into sections under their heading path, each a list of paragraphs. */
function sections(text: string): Section[] {
  const result: Section[] = [];
  const path: string[] = [];
  let current: Section = { heading: null, paragraphs: [] };
  let paragraph: string[] = [];
  let fenced = false;
  const endParagraph = () => {
    const joined = paragraph.join('\n').trim();
    if (joined) current.paragraphs.push(joined);
    paragraph = [];
  };
  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const heading = fenced ? null : HEADING.exec(line);
    if (heading) {
      endParagraph();
      if (current.paragraphs.length) result.push(current);
      const level = heading[1]!.length;
      path.length = Math.min(path.length, level - 1);
      path.push(heading[2]!.trim());
      current = { heading: path.join(' > '), paragraphs: [] };
    } else if (!fenced && line.trim() === '') endParagraph();
    else paragraph.push(line);
  }
  endParagraph();
  if (current.paragraphs.length) result.push(current);
  return result;
}

/** A paragraph longer than `size` cut at sentence ends, else at spaces, else anywhere. */
function pieces(paragraph: string, size: number): string[] {
  if (paragraph.length <= size) return [paragraph];
  const out: string[] = [];
  let rest = paragraph;
  while (rest.length > size) {
    const window = rest.slice(0, size);
    const sentence = Math.max(
      window.lastIndexOf('. '),
      window.lastIndexOf('? '),
      window.lastIndexOf('! '),
    );
    const space = window.lastIndexOf(' ');
    const cut = sentence > size / 2 ? sentence + 1 : space > size / 2 ? space : size;
    out.push(rest.slice(0, cut).trim());
    rest = rest.slice(cut).trim();
  }
  if (rest) out.push(rest);
  return out;
}

/** The last `overlap` characters of a chunk, from a word start. */
function tail(text: string, overlap: number): string {
  if (overlap <= 0 || text.length <= overlap) return overlap > 0 ? text : '';
  const from = text.length - overlap;
  const space = text.indexOf(' ', from);
  return space === -1 ? text.slice(from) : text.slice(space + 1);
}

/**
 * Cuts a document (Markdown or plain text; HTML and PDF arrive converted) into chunks that
 * follow its structure: never across a heading, whole paragraphs packed up to `size`, a long
 * paragraph cut at sentence ends, consecutive chunks of a section sharing `overlap`
 * characters so a fact on a boundary is whole in one of them.
 */
export function chunkText(text: string, options: ChunkOptions): Chunk[] {
  const chunks: Chunk[] = [];
  for (const section of sections(text)) {
    let current = '';
    let fresh = true; // only the overlap of the previous chunk so far
    const flush = () => {
      if (current.trim() && !fresh)
        chunks.push({ position: chunks.length, heading: section.heading, content: current.trim() });
      current = tail(current, options.overlap);
      fresh = true;
    };
    for (const paragraph of section.paragraphs) {
      for (const piece of pieces(paragraph, options.size)) {
        if (!fresh && current.length + piece.length + 2 > options.size) flush();
        current = current ? `${current}\n\n${piece}` : piece;
        fresh = false;
      }
    }
    flush();
  }
  return chunks;
}
