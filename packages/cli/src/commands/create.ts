import { spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentDefinitionError, parseAgentYaml } from '@parley/agent-file';
import {
  PROVIDER_CATALOGUE,
  type ProviderFacts,
  type ProviderName,
} from '@parley/providers/catalogue';
import type { Command } from '../command.ts';
import { CliError, type Io, line, painter } from '../io.ts';
import { withProgress } from '../progress.ts';
import { ask } from '../prompt.ts';
import { shellQuote } from '../shell-quote.ts';

/** What `parley create` copies: templates/agent at the repository root. */
export const TEMPLATE_DIR = fileURLToPath(new URL('../../../../templates/agent/', import.meta.url));
/** This package, which the created project depends on with `file:` (nothing is on npm). */
export const CLI_PACKAGE_DIR = realpathSync(fileURLToPath(new URL('../../', import.meta.url)));

/** How `parley create` offers a provider; its facts (title, default model, key page) are the catalogue's. */
interface ProviderChoice extends Pick<ProviderFacts, 'title' | 'defaultModel'> {
  name: ProviderName;
  label: string;
  /** Shown in .env.example next to the key variable. */
  keyHelp: string | undefined;
  /** In the interactive menu (the others are accepted as --provider only). */
  listed: boolean;
}

function choice(name: ProviderName, label: string, listed = true): ProviderChoice {
  const facts = PROVIDER_CATALOGUE[name];
  const needs = facts.keySecret ? ` (needs ${facts.keySecret})` : '';
  return {
    name,
    label: label + needs,
    listed,
    title: facts.title,
    defaultModel: facts.defaultModel,
    keyHelp: facts.keyPage,
  };
}

const OLLAMA_URL = PROVIDER_CATALOGUE['openai-compatible'].baseURL!;

const PROVIDERS: readonly ProviderChoice[] = [
  choice(
    'scripted',
    'offline demo: no key, no network, plays a script (calls the calculator, then answers)',
  ),
  choice('openai', 'OpenAI'),
  choice('anthropic', 'Anthropic'),
  choice('openrouter', 'OpenRouter, many providers behind one key'),
  choice(
    'openai-compatible',
    'any OpenAI-compatible server (Ollama, vLLM, LM Studio…) at a base URL',
  ),
  choice('openai-responses', 'OpenAI through the Responses API', false),
];

const providerNames = PROVIDERS.map((p) => p.name).join(', ');

/** What the templates are filled with. A missing value for a `{{name}}` is a bug. */
type TemplateValues = Record<string, string | undefined>;

/**
 * Fills a template: `{{key}}` is replaced with the (escaped) value; lines between
 * `{{#key}}` and `{{/key}}` stay when the key has a value, between `{{^key}}` and `{{/key}}`
 * when it has none (the tag lines themselves go).
 */
export function renderTemplate(
  template: string,
  values: TemplateValues,
  escapeValue: (value: string) => string = (v) => v,
): string {
  const section =
    /^[ \t]*\{\{([#^])(\w+)\}\}[ \t]*\r?\n([\s\S]*?)^[ \t]*\{\{\/\2\}\}[ \t]*(?:\r?\n|$)/m;
  let text = template;
  for (let m = section.exec(text); m; m = section.exec(text)) {
    const keep = Boolean(values[m[2]!]) === (m[1] === '#');
    text = text.slice(0, m.index) + (keep ? m[3]! : '') + text.slice(m.index + m[0].length);
  }
  return text.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`template placeholder {{${key}}} has no value`);
    return escapeValue(value);
  });
}

/** Inside a JSON or YAML double-quoted string. */
const quotedEscape = (value: string) => JSON.stringify(value).slice(1, -1);

/** A directory name as an agent name: letters, digits, spaces, "-", "_", at most 64. */
function agentNameFrom(dir: string): string {
  const cleaned = dir
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[^a-z0-9\-_ ]+/gi, '-')
    .replace(/^[^a-z0-9]+/i, '')
    .slice(0, 64)
    .replace(/[-_ ]+$/, '');
  return cleaned || 'my-agent';
}

/** An npm package name: lowercase, URL-safe, not starting with "." or "_". */
function packageNameFrom(dir: string): string {
  const cleaned = dir
    .toLowerCase()
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[^a-z0-9\-_.~]+/g, '-')
    .replace(/^[-_.~]+/, '')
    .slice(0, 214)
    .replace(/[-_.~]+$/, '');
  return cleaned || 'parley-agent';
}

async function chooseProvider(io: Io): Promise<ProviderChoice> {
  const listed = PROVIDERS.filter((p) => p.listed);
  const width = Math.max(...listed.map((p) => p.name.length));
  line(io, 'Which model provider?');
  for (const [i, p] of listed.entries())
    line(io, `  ${i + 1}. ${p.name.padEnd(width)}  ${p.label}${i === 0 ? ' (default)' : ''}`);
  for (let attempt = 0; attempt < 5; attempt++) {
    const answer = (
      await ask(io, `Provider [1-${listed.length} or a name]:`, {
        default: '1',
        flag: '--provider',
      })
    ).toLowerCase();
    const chosen = /^\d+$/.test(answer)
      ? listed[Number(answer) - 1]
      : PROVIDERS.find((p) => p.name === answer);
    if (chosen) return chosen;
    line(io, `"${answer}" is not one of them: answer 1 to ${listed.length}, or a provider name.`);
  }
  throw new CliError(`No provider chosen: pass --provider (${providerNames}).`, 2);
}

/** `parley create` writes only into a new or empty directory. */
async function assertNewOrEmpty(dir: string, given: string): Promise<void> {
  if (!existsSync(dir)) return;
  const info = await stat(dir);
  if (!info.isDirectory()) throw new CliError(`${given} exists and is not a directory.`);
  const entries = await readdir(dir);
  if (entries.length > 0)
    throw new CliError(
      `${given} is not empty (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}): choose a new directory, or empty this one.`,
    );
}

/** Provider, base URL and model: from the flags, else asked on a terminal, else the defaults. */
async function chooseModel(
  values: Record<string, unknown>,
  io: Io,
): Promise<{ provider: ProviderChoice; baseURL: string | undefined; model: string }> {
  const interactive = Boolean(io.stdin.isTTY) && !values.yes;
  const flagProvider = values.provider as string | undefined;
  let provider: ProviderChoice;
  if (flagProvider !== undefined) {
    const found = PROVIDERS.find((c) => c.name === flagProvider.trim().toLowerCase());
    if (!found)
      throw new CliError(`Unknown provider "${flagProvider}": use one of ${providerNames}.`, 2);
    provider = found;
  } else provider = interactive ? await chooseProvider(io) : PROVIDERS[0]!;

  const flagBaseURL = values['base-url'] as string | undefined;
  if (flagBaseURL !== undefined && provider.name !== 'openai-compatible')
    throw new CliError(
      `--base-url is for --provider openai-compatible (this project uses ${provider.name}).`,
      2,
    );
  let baseURL: string | undefined;
  if (provider.name === 'openai-compatible') {
    baseURL =
      flagBaseURL ??
      (interactive
        ? await ask(io, 'Base URL of the server:', { default: OLLAMA_URL, flag: '--base-url' })
        : OLLAMA_URL);
    baseURL = baseURL.trim();
  }

  let model = values.model as string | undefined;
  if (model === undefined)
    model =
      interactive && provider.name !== 'scripted'
        ? await ask(io, 'Model:', { default: provider.defaultModel, flag: '--model' })
        : provider.defaultModel;
  model = model.trim();
  if (!model) throw new CliError('--model is empty: name a model, e.g. gpt-4.1-mini.', 2);
  return { provider, baseURL, model };
}

export const createCommand: Command = {
  name: 'create',
  summary: 'Create an agent project in a new directory (agent.yaml, .env.example, package.json).',
  usage:
    'parley create <dir> [--provider <name>] [--model <id>] [--base-url <url>] [--name <agent>] [--yes] [--no-install] [--json]',
  examples: [
    'parley create my-agent                      # asks for the provider and model',
    'parley create my-agent --yes                # the offline scripted demo, no questions',
    'parley create support --provider anthropic --model claude-sonnet-4-5',
    'parley create local --provider openai-compatible --base-url http://127.0.0.1:11434/v1 --model llama3.2',
    'parley create demo --yes --no-install --json',
  ],
  options: {
    provider: { type: 'string', short: 'p' },
    model: { type: 'string', short: 'm' },
    'base-url': { type: 'string' },
    name: { type: 'string', short: 'n' },
    yes: { type: 'boolean', short: 'y' },
    'no-install': { type: 'boolean' },
  },
  async run({ positionals, values }, io) {
    const p = painter(io);
    if (positionals.length === 0)
      throw new CliError('Where? parley create <dir> (a new or empty directory).', 2);
    if (positionals.length > 1)
      throw new CliError(
        `One directory at a time (got ${positionals.map((x) => `"${x}"`).join(', ')}).`,
        2,
      );
    const given = positionals[0]!;
    const dir = resolve(io.cwd, given);

    // 1. The directory: new, or empty. Checked before any question.
    await assertNewOrEmpty(dir, given);
    // 2. Provider, model, base URL: flags, else questions on a terminal, else the defaults.
    const { provider, baseURL, model } = await chooseModel(values, io);

    const nameFlag = values.name as string | undefined;
    const name = nameFlag ?? agentNameFrom(basename(dir));
    const apiKeySecret = PROVIDER_CATALOGUE[provider.name].keySecret;
    const templateValues: TemplateValues = {
      name,
      packageName: packageNameFrom(basename(dir)),
      provider: provider.name,
      providerTitle: provider.title,
      model,
      apiKeySecret,
      keyHelp: provider.keyHelp,
      baseURL,
      scripted: provider.name === 'scripted' ? 'yes' : undefined,
      cliPath: CLI_PACKAGE_DIR,
    };

    // 3. Every file in memory first, the agent validated: a bad flag never leaves half a project.
    const files: { name: string; text: string }[] = [];
    for (const file of (await readdir(TEMPLATE_DIR)).sort()) {
      const template = await readFile(join(TEMPLATE_DIR, file), 'utf8');
      const escapeValue = /\.(ya?ml|json)$/.test(file) ? quotedEscape : undefined;
      files.push({ name: file, text: renderTemplate(template, templateValues, escapeValue) });
    }
    const agentFile = files.find((f) => f.name === 'agent.yaml');
    if (!agentFile) throw new Error(`${TEMPLATE_DIR} has no agent.yaml`);
    try {
      parseAgentYaml(agentFile.text, { file: 'agent.yaml' });
    } catch (error) {
      if (!(error instanceof AgentDefinitionError)) throw error;
      const flagOf: Record<string, [string, string | undefined]> = {
        name: ['--name', name],
        'model.model': ['--model', model],
        'model.baseURL': ['--base-url', baseURL],
      };
      const problems = error.issues.map((issue) => {
        const [flag, value] = flagOf[issue.path] ?? [issue.path, undefined];
        return `${flag}${value === undefined ? '' : ` "${value}"`}: ${issue.message}`;
      });
      throw new CliError(`${problems.join('; ')}. Nothing was written.`, 2);
    }

    // 4. Write them (the directory is removed again if that fails half way).
    const created = !existsSync(dir);
    try {
      await mkdir(dir, { recursive: true });
      for (const file of files)
        await writeFile(join(dir, file.name), file.text, { flag: 'wx', encoding: 'utf8' });
    } catch (error) {
      if (created) await rm(dir, { recursive: true, force: true });
      else for (const file of files) await rm(join(dir, file.name), { force: true });
      throw new CliError(`Could not write the project in ${given}: ${(error as Error).message}`);
    }
    const fileNames = files.map((f) => f.name);
    if (!values.json) {
      line(io, `${p.green('✓')} Created ${name} in ${dir} (${provider.name}, model ${model})`);
      line(io, p.dim(`  ${fileNames.join('  ')}`));
    }

    // 5. npm install: the parley command (from this repository) and Node 24.
    const install = !values['no-install'];
    const cdPath = shellQuote(relative(io.cwd, dir) || '.');
    let installed: boolean | undefined;
    if (install) {
      const result = await withProgress(io, 'Installing (npm install)', npmInstall(dir, io));
      installed = result.code === 0;
      if (!installed) {
        const tail = result.output.trim().split('\n').slice(-15).join('\n  ');
        io.stderr.write(
          `${p.red('parley:')} npm install failed in ${dir} (${result.error ?? `exit code ${result.code}`}).\n  ${tail}\n  The project is there: fix the problem, then run: cd ${cdPath} && npm install\n`,
        );
      } else if (!values.json) line(io, `${p.green('✓')} Installed the dependencies`);
    }

    if (values.json) {
      line(
        io,
        JSON.stringify(
          {
            dir,
            files: fileNames,
            provider: provider.name,
            model,
            ...(baseURL ? { baseURL } : {}),
            installed: installed ?? false,
          },
          null,
          2,
        ),
      );
    } else {
      const steps: string[] = [];
      if (!installed) steps.push('npm install');
      if (apiKeySecret)
        steps.push(
          `cp .env.example .env   # then put your ${provider.title} key in ${apiKeySecret}`,
        );
      steps.push('npx parley start   # the local server; leave it running');
      line(io);
      line(io, 'Next:');
      line(io, `  cd ${cdPath} && ${steps[0]}`);
      for (const step of steps.slice(1)) line(io, `  ${step}`);
      line(io, 'Then, in another terminal in that directory:');
      line(io, '  npx parley deploy   # sends agent.yaml to the local server');
      line(io, '  npx parley chat');
    }
    return install && !installed ? 1 : 0;
  },
};

/** Runs `npm install` in `dir`, its output collected (shown only if it fails). */
function npmInstall(
  dir: string,
  io: Io,
): Promise<{ code: number; output: string; error?: string }> {
  return new Promise((done) => {
    const windows = process.platform === 'win32';
    const child = spawn(windows ? 'npm.cmd' : 'npm', ['install', '--no-fund', '--no-audit'], {
      cwd: dir,
      env: io.env as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: windows,
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.on('error', (error) =>
      done({
        code: -1,
        output,
        error:
          (error as NodeJS.ErrnoException).code === 'ENOENT'
            ? 'npm was not found on PATH'
            : error.message,
      }),
    );
    child.on('close', (code, signal) =>
      done({ code: code ?? -1, output, ...(signal ? { error: `killed by ${signal}` } : {}) }),
    );
  });
}
