import { copyFile, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { ElizaKnowledge } from '@parley/agent-file';
import { readable } from './knowledge.ts';

/**
 * Writes an imported character's knowledge where `parley knowledge add` takes it from: its
 * texts as one Markdown file, and, only when the user asked (`--with-knowledge-files`), copies
 * of the files and directories it names (relative to the character file, never outside it).
 * Without consent each named file is a warning saying how to bring it.
 */
export async function writeElizaKnowledge(input: {
  knowledge: ElizaKnowledge;
  agentName: string;
  characterDir: string;
  into: string;
  readFiles: boolean;
}): Promise<{ written: string[]; warnings: string[] }> {
  const { knowledge, into } = input;
  const written: string[] = [];
  const warnings: string[] = [];
  const shown = (path: string) => relative(dirname(into), path);
  if (knowledge.texts.length > 0) {
    await mkdir(into, { recursive: true });
    const file = join(into, 'character-knowledge.md');
    const body = knowledge.texts.map((text) => text.replace(/\n{2,}/g, '\n')).join('\n\n');
    await writeFile(file, `# What ${input.agentName} knows\n\n${body}\n`, 'utf8');
    written.push(shown(file));
  }
  for (const source of knowledge.sources) {
    const label = `knowledge[${source.index}] (${source.kind} "${source.path}")`;
    if (!input.readFiles) {
      warnings.push(
        `${label} was not read: pass --with-knowledge-files to copy it into knowledge/ for the agent's knowledge base`,
      );
      continue;
    }
    const from = resolve(input.characterDir, source.path);
    if (from !== input.characterDir && !from.startsWith(input.characterDir + sep)) {
      warnings.push(`${label} is outside the character's directory and was not read`);
      continue;
    }
    const info = await stat(from).catch(() => undefined);
    if (!info) {
      warnings.push(`${label} does not exist next to the character file`);
      continue;
    }
    for (const file of info.isDirectory() ? await filesUnder(from) : [from]) {
      if (!readable(file)) {
        warnings.push(
          `${relative(input.characterDir, file)} is not text, Markdown, HTML or PDF: skipped`,
        );
        continue;
      }
      const to = join(into, relative(input.characterDir, file));
      await mkdir(dirname(to), { recursive: true });
      await copyFile(file, to);
      written.push(shown(to));
    }
  }
  return { written, warnings };
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}
