import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, relative, resolve } from 'node:path';
import type { Command } from '../command.ts';
import { CliError, type Io, line, painter } from '../io.ts';
import { resolveTarget } from '../target.ts';

/** The extensions Parley reads as documents (the server's knowledge media types). */
const TEXT = new Set([
  '.md',
  '.markdown',
  '.mdx',
  '.txt',
  '.text',
  '.rst',
  '.csv',
  '.json',
  '.yaml',
  '.yml',
]);
const BINARY = new Set(['.pdf']);
const HTML = new Set(['.html', '.htm', '.xhtml']);
/** Bigger files are refused before upload (the server's request limit is 1 MiB of JSON). */
const MAX_BYTES = 700 * 1024;

export const readable = (name: string) => {
  const ext = extname(name).toLowerCase();
  return TEXT.has(ext) || BINARY.has(ext) || HTML.has(ext);
};

/** Every readable file under the paths, with the name it gets in the base (relative to cwd). */
export async function collectDocuments(
  paths: string[],
  cwd: string,
): Promise<{ path: string; name: string }[]> {
  const found: { path: string; name: string }[] = [];
  const walk = async (path: string, explicit: boolean) => {
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new CliError(`No such file or directory: ${relative(cwd, path) || path}`, 2);
    if (info.isDirectory()) {
      for (const entry of (await readdir(path)).sort())
        if (!entry.startsWith('.')) await walk(join(path, entry), false);
    } else if (readable(path)) found.push({ path, name: relative(cwd, path) || path });
    else if (explicit)
      throw new CliError(
        `${relative(cwd, path)}: Parley reads text, Markdown, HTML and PDF documents.`,
        2,
      );
  };
  for (const path of paths) await walk(resolve(cwd, path), true);
  return found;
}

/** `[######----] 6/10 name` on stderr (terminals only). */
function progressBar(io: Io, total: number) {
  const width = 24;
  return (done: number, name = '') => {
    if (!io.stderr.isTTY) return;
    const filled = Math.round((done / total) * width);
    io.stderr.write(
      `\r\x1b[2K[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${name.slice(0, 50)}`,
    );
    if (done === total) io.stderr.write('\r\x1b[2K');
  };
}

export const knowledgeCommand: Command = {
  name: 'knowledge',
  summary: "Add documents to an agent's knowledge base (text, Markdown, HTML, PDF).",
  usage: 'parley knowledge add <files|dirs…> --agent <name> [--base <base>] [--json]',
  examples: [
    'parley knowledge add docs/ --agent support-bot',
    'parley knowledge add faq.md manual.pdf --agent support-bot --base product-docs',
  ],
  options: {
    agent: { type: 'string', short: 'a' },
    base: { type: 'string', short: 'b' },
  },
  async run({ positionals, values }, io) {
    const p = painter(io);
    const [action, ...paths] = positionals;
    if (action !== 'add') throw new CliError(`Usage: ${this.usage}`, 2);
    const agent = values.agent as string | undefined;
    if (!agent) throw new CliError('Whose knowledge? Pass --agent <name>.', 2);
    if (paths.length === 0)
      throw new CliError('Which documents? parley knowledge add <files|dirs…>', 2);
    const documents = await collectDocuments(paths, io.cwd);
    if (documents.length === 0)
      throw new CliError('No text, Markdown, HTML or PDF documents there.', 2);
    const { client, workspaceId } = await resolveTarget(values, io);
    // The agent's own base is named after it; --base names another (shared) one.
    const baseName = (values.base as string | undefined) ?? agent;
    await client.knowledge.put(workspaceId, baseName, values.base ? {} : { agent });
    const progress = progressBar(io, documents.length);
    const results: {
      name: string;
      version?: number;
      chunks?: number;
      changed?: boolean;
      error?: string;
    }[] = [];
    let embedded: string | null = null;
    let note: string | undefined;
    for (const [i, document] of documents.entries()) {
      progress(i, document.name);
      const bytes = await readFile(document.path);
      if (bytes.byteLength > MAX_BYTES) {
        results.push({ name: document.name, error: `larger than ${MAX_BYTES / 1024} KiB` });
        continue;
      }
      const binary = BINARY.has(extname(document.path).toLowerCase());
      try {
        const added = await client.knowledge.putDocument(workspaceId, baseName, {
          name: document.name,
          ...(binary ? { base64: bytes.toString('base64') } : { text: bytes.toString('utf8') }),
        });
        embedded = added.embeddingModel ?? embedded;
        note = added.note ?? note;
        results.push({
          name: document.name,
          version: added.document.version,
          chunks: added.document.chunkCount,
          changed: added.changed,
        });
      } catch (error) {
        results.push({ name: document.name, error: (error as Error).message });
      }
    }
    progress(documents.length);
    if (values.json) {
      line(
        io,
        JSON.stringify({ base: baseName, embeddingModel: embedded, documents: results }, null, 2),
      );
      return results.some((r) => r.error) ? 1 : 0;
    }
    for (const r of results)
      line(
        io,
        r.error
          ? `${p.red('✗')} ${r.name}: ${r.error}`
          : `${p.green('✓')} ${r.name} ${p.dim(r.changed ? `v${r.version}, ${r.chunks} chunks` : 'unchanged')}`,
      );
    line(
      io,
      `Knowledge base ${p.bold(baseName)}: ${embedded ? `embedded with ${embedded}` : (note ?? 'full-text only')}`,
    );
    if (values.base)
      line(
        io,
        p.dim(
          `Agents retrieve from it when their agent.yaml lists it: knowledge: { bases: [${baseName}] }`,
        ),
      );
    return results.some((r) => r.error) ? 1 : 0;
  },
};
