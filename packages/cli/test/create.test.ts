import { execFile } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadAgentFile } from '@parley/agent-file';
import { afterAll, describe, expect, it } from 'vitest';
import { renderTemplate } from '../src/commands/create.ts';
import { parley, type TestIo, testIo } from './support/io.ts';

/*
 * parley create, in process (main(argv, io)) in a temporary directory, and once through the
 * real launcher from a plain shell PATH, and once with a real npm install.
 */

const exec = promisify(execFile);
const repoRoot = realpathSync(fileURLToPath(new URL('../../../', import.meta.url)));
const cliDir = join(repoRoot, 'packages', 'cli');
const launcher = join(repoRoot, 'node_modules', '.bin', 'parley');
const templateFiles = ['.env.example', '.gitignore', 'README.md', 'agent.yaml', 'package.json'];

/** PATH as a plain shell has it: without any node_modules/.bin that npx or npm run put first. */
const plainPath = (process.env.PATH ?? '')
  .split(delimiter)
  .filter((dir) => !dir.includes(`node_modules${sep}.bin`))
  .join(delimiter);

const made: string[] = [];
afterAll(async () => {
  await Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function workDir() {
  const dir = realpathSync(await mkdtemp(join(tmpdir(), 'parley-create-')));
  made.push(dir);
  return dir;
}

/** Waits for the `nth` time `prompt` is on stdout, then types `text` and Enter. */
async function answer(io: TestIo, prompt: string, text: string, nth = 1) {
  const deadline = Date.now() + 5_000;
  while (io.out().split(prompt).length - 1 < nth) {
    if (Date.now() > deadline)
      throw new Error(`no prompt "${prompt}" (#${nth}) on stdout; it has:\n${io.out()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  io.type(`${text}\n`, true);
}

async function readProject(dir: string) {
  const files = (await readdir(dir)).sort();
  const text = Object.fromEntries(
    await Promise.all(files.map(async (f) => [f, await readFile(join(dir, f), 'utf8')] as const)),
  );
  return { files, text, agent: await loadAgentFile(join(dir, 'agent.yaml')) };
}

describe('parley create: every provider', () => {
  const cases = [
    { provider: 'scripted', model: 'demo', key: undefined },
    { provider: 'openai', model: 'gpt-4.1-mini', key: 'OPENAI_API_KEY' },
    { provider: 'openai-responses', model: 'gpt-4.1-mini', key: 'OPENAI_API_KEY' },
    { provider: 'anthropic', model: 'claude-sonnet-4-5', key: 'ANTHROPIC_API_KEY' },
    { provider: 'openrouter', model: 'openai/gpt-4.1-mini', key: 'OPENROUTER_API_KEY' },
    { provider: 'openai-compatible', model: 'llama3.2', key: undefined },
  ];

  it.each(cases)('$provider gives a valid project with its defaults', async (c) => {
    const cwd = await workDir();
    const io = await testIo({ cwd });
    const { code, stdout, stderr } = await parley(
      ['create', 'bot', '--provider', c.provider, '--yes', '--no-install'],
      io,
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain(
      `Created bot in ${join(cwd, 'bot')} (${c.provider}, model ${c.model})`,
    );

    const { files, text, agent } = await readProject(join(cwd, 'bot'));
    expect(files).toEqual(templateFiles);
    for (const [file, content] of Object.entries(text)) expect(content, file).not.toMatch(/\{\{/);
    expect(agent.name).toBe('bot');
    expect(agent.model.provider).toBe(c.provider);
    expect(agent.model.model).toBe(c.model);
    expect(agent.model.apiKeySecret).toBe(c.key);
    expect(agent.plugins.map((p) => p.name)).toEqual(['@parley/plugin-basics']);

    if (c.key) {
      expect(text['.env.example']).toMatch(new RegExp(`^${c.key}=$`, 'm'));
      expect(stdout).toContain(`cp .env.example .env   # then put your`);
    } else expect(text['.env.example']).not.toMatch(/^[A-Z_]+=/m);
    expect(agent.model.baseURL).toBe(
      c.provider === 'openai-compatible' ? 'http://127.0.0.1:11434/v1' : undefined,
    );
    if (c.provider === 'scripted') {
      // The offline demo shows a tool call: the calculator first, then an answer.
      expect(agent.model.script).toHaveLength(2);
      expect(agent.model.script![0]).toEqual([
        { type: 'tool_call', name: 'calculator', args: { expression: '6 * 7' } },
      ]);
      expect(agent.model.script![1]![0]).toMatchObject({ type: 'text' });
      expect(text['README.md']).toContain('offline demo');
    } else expect(agent.model.script).toBeUndefined();
  });

  it('takes --model, --base-url and --name', async () => {
    const cwd = await workDir();
    const io = await testIo({ cwd });
    const { code, stderr } = await parley(
      [
        'create',
        'local',
        '--provider',
        'openai-compatible',
        '--base-url',
        'http://10.0.0.5:8000/v1',
        '--model',
        'qwen2.5:7b',
        '--name',
        'Local Helper',
        '--no-install',
      ],
      io,
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const { agent, text } = await readProject(join(cwd, 'local'));
    expect(agent.name).toBe('Local Helper');
    expect(agent.model).toMatchObject({
      provider: 'openai-compatible',
      model: 'qwen2.5:7b',
      baseURL: 'http://10.0.0.5:8000/v1',
    });
    expect(text['README.md']).toMatch(/^# Local Helper$/m);
  });

  it('without a terminal and without flags makes the scripted demo', async () => {
    const cwd = await workDir();
    const io = await testIo({ cwd });
    const { code } = await parley(['create', 'demo', '--no-install'], io);
    expect(code).toBe(0);
    expect((await loadAgentFile(join(cwd, 'demo', 'agent.yaml'))).model.provider).toBe('scripted');
  });
});

describe('parley create: questions on a terminal', () => {
  it('asks the provider, base URL and model, and asks again after a wrong answer', async () => {
    const cwd = await workDir();
    const io = await testIo({ cwd, tty: true });
    const running = parley(['create', 'asked', '--no-install'], io);
    await answer(io, 'Provider [1-5', '9');
    await answer(io, 'Provider [1-5', 'openai-compatible', 2);
    await answer(io, 'Base URL of the server:', ''); // the default
    await answer(io, 'Model:', 'mistral-nemo');
    const { code, stderr } = await running;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(io.out()).toContain('1. scripted');
    expect(io.out()).toContain('"9" is not one of them');
    const agent = await loadAgentFile(join(cwd, 'asked', 'agent.yaml'));
    expect(agent.model).toMatchObject({
      provider: 'openai-compatible',
      model: 'mistral-nemo',
      baseURL: 'http://127.0.0.1:11434/v1',
    });
  });

  it('takes a provider by number and the suggested model', async () => {
    const cwd = await workDir();
    const io = await testIo({ cwd, tty: true });
    const running = parley(['create', 'numbered', '--no-install'], io);
    await answer(io, 'Provider [1-5', '3');
    await answer(io, 'Model:', '');
    expect((await running).code).toBe(0);
    const agent = await loadAgentFile(join(cwd, 'numbered', 'agent.yaml'));
    expect(agent.model).toMatchObject({
      provider: 'anthropic',
      model: 'claude-sonnet-4-5',
      apiKeySecret: 'ANTHROPIC_API_KEY',
    });
  });

  it('asks nothing with --yes', async () => {
    const cwd = await workDir();
    const io = await testIo({ cwd, tty: true });
    const { code, stdout } = await parley(['create', 'quiet', '--yes', '--no-install'], io);
    expect(code).toBe(0);
    expect(stdout).not.toContain('Which model provider?');
    expect((await loadAgentFile(join(cwd, 'quiet', 'agent.yaml'))).model.provider).toBe('scripted');
  });
});

describe('parley create: refusals leave nothing behind', () => {
  const refusals: { name: string; argv: string[]; code: number; message: RegExp }[] = [
    { name: 'no directory', argv: [], code: 2, message: /parley create <dir>/ },
    { name: 'two directories', argv: ['x', 'y'], code: 2, message: /One directory at a time/ },
    {
      name: 'an unknown provider',
      argv: ['x', '--provider', 'gemini'],
      code: 2,
      message: /Unknown provider "gemini": use one of scripted, openai, .*openai-compatible/,
    },
    {
      name: '--base-url with another provider',
      argv: ['x', '--provider', 'openai', '--base-url', 'http://127.0.0.1:1/v1'],
      code: 2,
      message: /--base-url is for --provider openai-compatible/,
    },
    {
      name: 'a --base-url that is not a URL',
      argv: ['x', '--provider', 'openai-compatible', '--base-url', 'localhost-ish'],
      code: 2,
      message: /--base-url "localhost-ish": .*Nothing was written/,
    },
    {
      name: 'an invalid --name',
      argv: ['x', '--name', 'bad "name"!'],
      code: 2,
      message: /--name "bad "name"!": use letters, digits, .*Nothing was written/,
    },
    { name: 'an empty --model', argv: ['x', '--model', ' '], code: 2, message: /--model is empty/ },
    { name: 'an unknown flag', argv: ['x', '--provder', 'openai'], code: 2, message: /provder/ },
  ];

  it.each(refusals)('refuses $name', async ({ argv, code, message }) => {
    const cwd = await workDir();
    const io = await testIo({ cwd });
    const result = await parley(['create', ...argv, '--yes', '--no-install'], io);
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stdout).toBe('');
    expect(await readdir(cwd)).toEqual([]);
  });

  it('refuses a directory that is not empty, and touches nothing in it', async () => {
    const cwd = await workDir();
    await mkdir(join(cwd, 'taken'));
    await writeFile(join(cwd, 'taken', 'notes.txt'), 'mine');
    const io = await testIo({ cwd });
    const { code, stderr } = await parley(['create', 'taken', '--yes', '--no-install'], io);
    expect(code).toBe(1);
    expect(stderr).toContain('taken is not empty (notes.txt): choose a new directory');
    expect(await readdir(join(cwd, 'taken'))).toEqual(['notes.txt']);
    expect(await readFile(join(cwd, 'taken', 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('refuses a path that is a file', async () => {
    const cwd = await workDir();
    await writeFile(join(cwd, 'file'), 'x');
    const io = await testIo({ cwd });
    const { code, stderr } = await parley(['create', 'file', '--yes', '--no-install'], io);
    expect(code).toBe(1);
    expect(stderr).toContain('file exists and is not a directory');
  });

  it('accepts an existing empty directory', async () => {
    const cwd = await workDir();
    await mkdir(join(cwd, 'empty'));
    const io = await testIo({ cwd });
    const { code } = await parley(['create', 'empty', '--yes', '--no-install'], io);
    expect(code).toBe(0);
    expect((await readdir(join(cwd, 'empty'))).sort()).toEqual(templateFiles);
  });
});

describe('parley create: output and package.json', () => {
  it('--json prints dir, files, provider and model, and nothing else on stdout', async () => {
    const cwd = await workDir();
    const io = await testIo({ cwd });
    const { code, stdout, stderr } = await parley(
      [
        'create',
        'j',
        '--provider',
        'openrouter',
        '--model',
        'x-ai/grok-4',
        '--no-install',
        '--json',
      ],
      io,
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      dir: join(cwd, 'j'),
      files: templateFiles,
      provider: 'openrouter',
      model: 'x-ai/grok-4',
      installed: false,
    });
  });

  it('points package.json at this repository’s packages/cli and brings Node 24', async () => {
    const cwd = await workDir();
    const io = await testIo({ cwd });
    await parley(['create', 'pkg', '--yes', '--no-install'], io);
    const pkg = JSON.parse(await readFile(join(cwd, 'pkg', 'package.json'), 'utf8'));
    expect(pkg).toMatchObject({
      name: 'pkg',
      private: true,
      type: 'module',
      scripts: { start: 'parley start', chat: 'parley chat', deploy: 'parley deploy' },
      allowScripts: { node: true },
      devDependencies: { '@parley/cli': `file:${cliDir}`, node: '^24.21.0' },
    });
    const target = pkg.devDependencies['@parley/cli'].slice('file:'.length);
    expect(JSON.parse(await readFile(join(target, 'package.json'), 'utf8')).name).toBe(
      '@parley/cli',
    );
    expect(await readFile(join(cwd, 'pkg', '.gitignore'), 'utf8')).toMatch(
      /^\.parley\/$[\s\S]*^\.env$[\s\S]*^node_modules\/$/m,
    );
  });

  it('names the agent and the package after the directory, and prints the next commands', async () => {
    const cwd = await workDir();
    const io = await testIo({ cwd });
    const { code, stdout } = await parley(['create', 'My Agent!', '--yes', '--no-install'], io);
    expect(code).toBe(0);
    const { agent, text } = await readProject(join(cwd, 'My Agent!'));
    expect(agent.name).toBe('My Agent');
    expect(JSON.parse(text['package.json']!).name).toBe('my-agent');
    const next = stdout.slice(stdout.indexOf('Next:'));
    expect(next).toContain("cd 'My Agent!' && npm install");
    expect(next).toMatch(/npx parley start[\s\S]*npx parley deploy[\s\S]*npx parley chat/);
  });

  it('reports a failed npm install with what to run, and keeps the project', async () => {
    const cwd = await workDir();
    const io = await testIo({ cwd, env: { PATH: join(cwd, 'no-npm-here') } });
    const { code, stderr } = await parley(['create', 'noinstall', '--yes'], io);
    expect(code).toBe(1);
    expect(stderr).toContain('npm install failed');
    expect(stderr).toContain('npm was not found on PATH');
    expect(stderr).toContain('cd noinstall && npm install');
    expect((await readdir(join(cwd, 'noinstall'))).sort()).toEqual(templateFiles);
  });

  it('fills templates: values, kept and dropped sections, and refuses a missing value', () => {
    const template = 'a {{x}}\n{{#y}}\nhas y\n{{/y}}\n{{^y}}\nno y\n{{/y}}\nend\n';
    expect(renderTemplate(template, { x: '"1"', y: 'yes' }, (v) => `<${v}>`)).toBe(
      'a <"1">\nhas y\nend\n',
    );
    expect(renderTemplate(template, { x: '2' })).toBe('a 2\nno y\nend\n');
    expect(() => renderTemplate('{{missing}}', {})).toThrow('{{missing}} has no value');
  });
});

describe('parley create from a plain shell', () => {
  it('runs through the real launcher (node_modules/.bin/parley) with the system PATH', async () => {
    const cwd = await workDir();
    const { stdout, stderr } = await exec(
      launcher,
      ['create', 'shell-made', '--no-install', '--provider', 'scripted', '--yes'],
      { cwd, env: { PATH: plainPath, HOME: cwd, NO_COLOR: '1' }, timeout: 60_000 },
    );
    expect(stderr).toBe('');
    expect(stdout).toContain(`Created shell-made in ${join(cwd, 'shell-made')}`);
    const agent = await loadAgentFile(join(cwd, 'shell-made', 'agent.yaml'));
    expect(agent.model.provider).toBe('scripted');
  });

  it('runs npm install in the new project: the parley command and Node 24 are there', async () => {
    const cwd = await workDir();
    // The user's own environment (npm configuration, cache, registry), as in a real shell.
    const io = await testIo({ cwd, env: { ...process.env, NO_COLOR: '1' } });
    const { code, stdout, stderr } = await parley(['create', 'installed', '--yes', '--json'], io);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ provider: 'scripted', installed: true });

    const project = join(cwd, 'installed');
    expect(existsSync(join(project, 'package-lock.json'))).toBe(true);
    expect(realpathSync(join(project, 'node_modules', '@parley', 'cli'))).toBe(cliDir);
    const env = { PATH: plainPath, HOME: cwd, NO_COLOR: '1' };
    const version = await exec(join(project, 'node_modules', '.bin', 'parley'), ['--version'], {
      cwd: project,
      env,
    });
    expect(version.stdout.trim()).toBe('0.1.0');
    const node = await exec(join(project, 'node_modules', '.bin', 'node'), ['--version'], {
      cwd: project,
      env,
    });
    expect(node.stdout).toMatch(/^v24\./);
  }, 300_000);
});
