import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { ElizaCharacterError, importElizaCharacter, stringifyAgentYaml } from '@parley/agent-file';
import type { Command } from '../command.ts';
import { CliError, line, painter } from '../io.ts';
import { shellQuote } from '../shell-quote.ts';
import { writeElizaKnowledge } from './eliza-knowledge.ts';

const FORMATS = ['eliza'];

export const importCommand: Command = {
  name: 'import',
  summary: 'Turn an ElizaOS character.json into an agent.yaml (secrets are listed, never copied).',
  usage:
    'parley import eliza <character.json> [--out agent.yaml] [--force] [--with-knowledge-files] [--json]',
  examples: [
    'parley import eliza marlowe.character.json',
    'parley import eliza characters/ada.json --out agents/ada.yaml',
    'parley import eliza ada.json --force --json   # overwrites agent.yaml',
    'parley import eliza ada.json --with-knowledge-files   # copies the files its knowledge names',
  ],
  options: {
    out: { type: 'string', short: 'o' },
    force: { type: 'boolean', short: 'f' },
    'with-knowledge-files': { type: 'boolean' },
  },
  async run({ positionals, values }, io) {
    const p = painter(io);
    const [format, source, ...extra] = positionals;
    if (!format) throw new CliError(`Usage: ${this.usage}`, 2);
    if (!FORMATS.includes(format))
      throw new CliError(
        `parley import knows one format, eliza (got "${format}"): parley import eliza <character.json>`,
        2,
      );
    if (!source) throw new CliError('Which character? parley import eliza <character.json>', 2);
    if (extra.length > 0)
      throw new CliError(`One character at a time (also got ${extra.join(', ')}).`, 2);

    const out = resolve(io.cwd, (values.out as string | undefined) ?? 'agent.yaml');
    const shownOut = relative(io.cwd, out) || out;
    if (!['.yaml', '.yml'].includes(extname(out).toLowerCase()))
      throw new CliError(`--out ${shownOut}: the agent is written as YAML, name it *.yaml.`, 2);

    // 1. The character: readable, JSON, an ElizaOS character.
    const path = resolve(io.cwd, source);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new CliError(
        code === 'ENOENT'
          ? `No such file: ${source}`
          : code === 'EISDIR'
            ? `${source} is a directory: name the character's .json file.`
            : `Cannot read ${source}: ${(error as Error).message}`,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text.replace(/^\uFEFF/, ''));
    } catch (error) {
      throw new CliError(`${source} is not valid JSON: ${(error as Error).message}`);
    }
    let result: ReturnType<typeof importElizaCharacter>;
    try {
      result = importElizaCharacter(json);
    } catch (error) {
      if (!(error instanceof ElizaCharacterError)) throw error;
      const problems = error.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
      throw new CliError(`${source} is not an ElizaOS character: ${problems.join('; ')}`);
    }

    // 2. agent.yaml, never over an existing file unless asked.
    if (existsSync(out) && !values.force)
      throw new CliError(
        `${shownOut} already exists: pass --force to replace it, or --out <other.yaml>.`,
      );
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, stringifyAgentYaml(result.agent), 'utf8');

    const { agent, secretsToSet, warnings } = result;
    // 3. The character's knowledge goes to knowledge/ beside agent.yaml, for its knowledge base.
    const knowledge = await writeElizaKnowledge({
      knowledge: result.knowledge,
      agentName: agent.name,
      characterDir: dirname(path),
      into: join(dirname(out), 'knowledge'),
      readFiles: values['with-knowledge-files'] === true,
    });
    warnings.push(...knowledge.warnings);
    const knowledgeDir = relative(io.cwd, join(dirname(out), 'knowledge')) || 'knowledge';
    if (values.json) {
      line(
        io,
        JSON.stringify(
          { out, agent: agent.name, knowledge: knowledge.written, secretsToSet, warnings },
          null,
          2,
        ),
      );
      return 0;
    }
    line(
      io,
      `${p.green('✓')} Imported ${agent.name} from ${source} into ${shownOut} (${agent.model.provider}, model ${agent.model.model})`,
    );
    if (warnings.length > 0) {
      line(io);
      line(io, p.yellow(`Not imported or changed (${warnings.length}):`));
      for (const warning of warnings) line(io, `  ${p.yellow('!')} ${warning}`);
    }
    if (secretsToSet.length > 0) {
      const width = Math.max(...secretsToSet.map((s) => s.name.length));
      line(io);
      line(io, `Secrets to set (their values were not imported):`);
      for (const secret of secretsToSet)
        line(io, `  ${p.bold(secret.name.padEnd(width))}  ${p.dim(secret.reason)}`);
      line(
        io,
        `  Put them in .env (parley deploy sends the ones the agent needs), or set each on the server: parley secrets set ${shellQuote(secretsToSet[0]!.name)}`,
      );
    }
    if (knowledge.written.length > 0) {
      line(io);
      line(
        io,
        `Knowledge (${knowledge.written.length} files in ${knowledgeDir}/, not in the instructions):`,
      );
      for (const file of knowledge.written) line(io, `  ${p.dim(file)}`);
    }
    line(io);
    line(
      io,
      `Next: review ${shownOut}, then parley deploy${values.out ? ` --file ${shellQuote(shownOut)}` : ''}`,
    );
    if (knowledge.written.length > 0)
      line(
        io,
        `Then: parley knowledge add ${shellQuote(knowledgeDir)} --agent ${shellQuote(agent.name)}`,
      );
    return 0;
  },
};
