import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Env, runCli } from './processes.ts';

export interface CreatedProject {
  dir: string;
  /** The agent's name (from --name). */
  agent: string;
  /** What `parley create --json` answered. */
  created: { dir: string; files: string[]; provider: string; model: string; installed: boolean };
}

/**
 * `parley create <dir> --provider openai --model gpt-4.1-mini --name <agent> --no-install --yes`
 * as a child process, then the two things a user does by hand: `.env` from `.env.example` with
 * the key filled in, and (the one test-only step) the model pointed at the provider stand-in.
 * `parley create` takes `--base-url` only for `--provider openai-compatible`, so `baseURL` is
 * added under `model:` in the generated agent.yaml, which stays otherwise as generated.
 */
export async function createOpenAiProject(options: {
  parent: string;
  name: string;
  agent: string;
  env: Env;
  apiKey: string;
  baseURL: string;
}): Promise<CreatedProject> {
  const dir = join(options.parent, options.name);
  const result = await runCli(
    [
      'create',
      dir,
      '--provider',
      'openai',
      '--model',
      'gpt-4.1-mini',
      '--name',
      options.agent,
      '--no-install',
      '--yes',
      '--json',
    ],
    { cwd: options.parent, env: options.env },
  );
  if (result.code !== 0)
    throw new Error(`parley create failed (${result.code}):\n${result.stdout}\n${result.stderr}`);
  const created = JSON.parse(result.stdout) as CreatedProject['created'];

  const example = await readFile(join(dir, '.env.example'), 'utf8');
  if (!/^OPENAI_API_KEY=$/m.test(example))
    throw new Error(`.env.example has no empty OPENAI_API_KEY= line:\n${example}`);
  await writeFile(
    join(dir, '.env'),
    example.replace(/^OPENAI_API_KEY=$/m, `OPENAI_API_KEY=${options.apiKey}`),
  );

  const agentFile = join(dir, 'agent.yaml');
  const yaml = await readFile(agentFile, 'utf8');
  const modelLine = /^( +)model: "gpt-4\.1-mini"\n/m.exec(yaml);
  if (!modelLine) throw new Error(`agent.yaml has no model: "gpt-4.1-mini" line:\n${yaml}`);
  const at = modelLine.index + modelLine[0].length;
  await writeFile(
    agentFile,
    `${yaml.slice(0, at)}${modelLine[1]}baseURL: "${options.baseURL}" # e2e: the provider stand-in\n${yaml.slice(at)}`,
  );
  return { dir, agent: options.agent, created };
}
