import { realpathSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importElizaCharacter, loadAgentFile } from '@parley/agent-file';
import { afterAll, describe, expect, it } from 'vitest';
import { parley, testIo } from './support/io.ts';
import { shellWords } from './support/shell-words.ts';

/*
 * parley import eliza, in process, on the ElizaOS character fixtures of @parley/core (written
 * for Parley; every secret value in them contains FIXTURE) and on files that are not characters.
 */

const fixtures = fileURLToPath(new URL('../../agent-file/test/fixtures/eliza/', import.meta.url));
const fixture = (name: string) => join(fixtures, name);
const readJson = async (path: string) => JSON.parse(await readFile(path, 'utf8'));

const made: string[] = [];
afterAll(async () => {
  await Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function workDir() {
  const dir = realpathSync(await mkdtemp(join(tmpdir(), 'parley-import-')));
  made.push(dir);
  return dir;
}

describe('parley import eliza', () => {
  it('writes agent.yaml from a 0.x character, with its warnings and secrets (names only)', async () => {
    const cwd = await workDir();
    const io = await testIo({ cwd });
    const source = fixture('classic-0x.character.json');
    const { code, stdout, stderr } = await parley(['import', 'eliza', source], io);
    expect(stderr).toBe('');
    expect(code).toBe(0);

    const agent = await loadAgentFile(join(cwd, 'agent.yaml'));
    expect(agent).toEqual(importElizaCharacter(await readJson(source)).agent);
    expect(agent.name).toBe('Marlowe');
    expect(agent.model).toMatchObject({ provider: 'anthropic', apiKeySecret: 'ANTHROPIC_API_KEY' });

    expect(stdout).toContain(`Imported Marlowe from ${source} into agent.yaml`);
    expect(stdout).toContain('field "people" was not imported');
    expect(stdout).toMatch(/^ {2}ANTHROPIC_API_KEY {2}API key for the anthropic model/m);
    // Its discord client became a channel: the bot token is the channel's secret.
    expect(stdout).toMatch(
      /^ {2}DISCORD_API_TOKEN {2}the discord bot's token \(channels\[0\]\.tokenSecret\)/m,
    );
    expect(stdout).toContain('ElizaOS clients became channels: discord (gateway)');
    expect(stdout).toContain('parley secrets set ANTHROPIC_API_KEY');
    expect(stdout).toContain('.env');
    // The fixture's fake secret values reach neither the output nor the file.
    const written = await readFile(join(cwd, 'agent.yaml'), 'utf8');
    for (const text of [stdout, written]) expect(text).not.toContain('FIXTURE');
  });

  it('--json prints out, secretsToSet and warnings; --out picks the file (folders made)', async () => {
    const cwd = await workDir();
    const io = await testIo({ cwd });
    const source = fixture('v1.character.json');
    const { code, stdout, stderr } = await parley(
      ['import', 'eliza', source, '--out', 'agents/ada.yaml', '--json'],
      io,
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const expected = importElizaCharacter(await readJson(source));
    const printed = JSON.parse(stdout);
    expect(printed).toEqual({
      out: join(cwd, 'agents', 'ada.yaml'),
      agent: 'Ada',
      // Its knowledge texts, beside the agent (not in its instructions), for its knowledge base.
      knowledge: ['knowledge/character-knowledge.md'],
      secretsToSet: expected.secretsToSet,
      // Plus the files its knowledge names, not read without --with-knowledge-files.
      warnings: [
        ...expected.warnings,
        expect.stringMatching(/^knowledge\[1\] \(file "docs\/teaching-notes.md"\) was not read/),
        expect.stringMatching(/^knowledge\[2\] \(directory "knowledge\/tutorials"\) was not read/),
      ],
    });
    expect(printed.secretsToSet.map((s: { name: string }) => s.name)).toEqual([
      'OPENAI_API_KEY',
      'TAVILY_API_KEY',
    ]);
    expect(stdout).not.toContain('FIXTURE');
    expect(await loadAgentFile(join(cwd, 'agents', 'ada.yaml'))).toEqual(expected.agent);
    expect(await readdir(cwd)).toEqual(['agents']);
  });

  it('imports the smallest character, with a path relative to the directory', async () => {
    const cwd = await workDir();
    await writeFile(
      join(cwd, 'pip.json'),
      await readFile(fixture('minimal.character.json'), 'utf8'),
    );
    const io = await testIo({ cwd });
    const { code, stdout } = await parley(['import', 'eliza', 'pip.json'], io);
    expect(code).toBe(0);
    expect(stdout).toContain('Imported Pip from pip.json into agent.yaml');
    expect((await loadAgentFile(join(cwd, 'agent.yaml'))).name).toBe('Pip');
  });

  it('prints its next commands quoted, as a shell reads them back', async () => {
    const cwd = await workDir();
    await writeFile(
      join(cwd, 'jarvis.json'),
      JSON.stringify({ name: 'J A R V I S', secrets: { "butler's key": 'x' } }),
    );
    const io = await testIo({ cwd });
    const out = 'my agents/j a r v i s.yaml';
    const { code, stdout } = await parley(['import', 'eliza', 'jarvis.json', '--out', out], io);
    expect(code).toBe(0);
    const command = (pattern: RegExp) => shellWords(pattern.exec(stdout)![1]!);
    expect(command(/on the server: (parley secrets set .*)$/m)).toEqual([
      'parley',
      'secrets',
      'set',
      "butler's key",
    ]);
    expect(command(/then (parley deploy .*)$/m)).toEqual(['parley', 'deploy', '--file', out]);
  });

  it('refuses to overwrite agent.yaml without --force, and overwrites with it', async () => {
    const cwd = await workDir();
    await writeFile(join(cwd, 'agent.yaml'), 'mine: true\n');
    const io = await testIo({ cwd });
    const source = fixture('minimal.character.json');
    const refused = await parley(['import', 'eliza', source], io);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('agent.yaml already exists: pass --force');
    expect(await readFile(join(cwd, 'agent.yaml'), 'utf8')).toBe('mine: true\n');

    const forced = await parley(['import', 'eliza', source, '--force'], io);
    expect(forced.code).toBe(0);
    expect((await loadAgentFile(join(cwd, 'agent.yaml'))).name).toBe('Pip');
  });

  const bad: {
    name: string;
    file?: [string, string];
    argv: string[];
    code: number;
    message: RegExp;
  }[] = [
    {
      name: 'a missing file',
      argv: ['eliza', 'nowhere.json'],
      code: 1,
      message: /No such file: nowhere\.json/,
    },
    {
      name: 'invalid JSON',
      file: ['broken.json', '{ "name": "Pip", '],
      argv: ['eliza', 'broken.json'],
      code: 1,
      message: /broken\.json is not valid JSON: /,
    },
    {
      name: 'JSON that is not a character (a list)',
      file: ['list.json', '[{ "name": "Pip" }]'],
      argv: ['eliza', 'list.json'],
      code: 1,
      message: /list\.json is not an ElizaOS character: expected a character object/,
    },
    {
      name: 'a character with a field of the wrong type',
      file: ['odd.json', '{ "name": "Pip", "bio": 42 }'],
      argv: ['eliza', 'odd.json'],
      code: 1,
      message: /odd\.json is not an ElizaOS character: bio: /,
    },
    {
      name: 'a character without a usable name',
      file: ['noname.json', '{ "name": "!!!" }'],
      argv: ['eliza', 'noname.json'],
      code: 1,
      message: /noname\.json is not an ElizaOS character: name: needs letters or digits/,
    },
    {
      name: 'a directory',
      argv: ['eliza', '.'],
      code: 1,
      message: /\. is a directory/,
    },
    {
      name: 'an unknown format',
      argv: ['tavern', 'x.json'],
      code: 2,
      message: /knows one format, eliza \(got "tavern"\)/,
    },
    { name: 'no file', argv: ['eliza'], code: 2, message: /Which character\?/ },
    { name: 'no format', argv: [], code: 2, message: /Usage: parley import eliza/ },
    {
      name: 'an --out that is not YAML',
      file: ['pip.json', '{ "name": "Pip" }'],
      argv: ['eliza', 'pip.json', '--out', 'agent.json'],
      code: 2,
      message: /--out agent\.json: the agent is written as YAML/,
    },
  ];

  it.each(bad)(
    'refuses $name, in one line, writing nothing',
    async ({ file, argv, code, message }) => {
      const cwd = await workDir();
      if (file) await writeFile(join(cwd, file[0]), file[1]);
      const io = await testIo({ cwd });
      const result = await parley(['import', ...argv], io);
      expect(result.code).toBe(code);
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stdout).toBe('');
      expect(await readdir(cwd)).toEqual(file ? [file[0]] : []);
    },
  );
});
