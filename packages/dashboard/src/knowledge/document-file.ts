/*
 * A file picked in the browser, as the body of PUT …/knowledge-bases/:base/documents: text
 * formats as `text`, a PDF as `base64`. The same formats and size limit as
 * `parley knowledge add` (packages/cli/src/commands/knowledge.ts).
 */

/** What the file picker offers (the server's knowledge media types, by extension). */
export const ACCEPTED =
  '.md,.markdown,.mdx,.txt,.text,.rst,.csv,.json,.yaml,.yml,.html,.htm,.xhtml,.pdf';
/** Bigger files are refused before upload: a request carries at most 1 MiB of JSON. */
export const MAX_BYTES = 700 * 1024;

/** The server reads the format from the name's extension. */
export type DocumentBody = { name: string; text: string } | { name: string; base64: string };

const isPdf = (file: File) =>
  file.type === 'application/pdf' || file.name.toLowerCase().endsWith('.pdf');

/** The request body for a picked file, or an error message saying why it cannot go. */
export async function documentBody(file: File): Promise<DocumentBody | string> {
  if (file.size > MAX_BYTES) return `larger than ${MAX_BYTES / 1024} KiB`;
  if (isPdf(file)) return { name: file.name, base64: toBase64(await file.arrayBuffer()) };
  return { name: file.name, text: await file.text() };
}

function toBase64(buffer: ArrayBuffer): string {
  const bytes = new Uint8Array(buffer);
  let binary = '';
  // In slices: String.fromCharCode(...all) overflows the call stack on large files.
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
