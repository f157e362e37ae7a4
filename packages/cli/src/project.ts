import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadAgentFile } from '@parley/agent-file';
import type { AgentDefinition } from '@parley/core';
import { CliError, type Io } from './io.ts';

export const AGENT_FILES = ['agent.yaml', 'agent.yml', 'agent.json'];

/** The project's agent file: --file, else agent.yaml/.yml/.json in the directory. */
export function agentFilePath(io: Io, file?: string): string {
  if (file) return resolve(io.cwd, file);
  const found = AGENT_FILES.map((f) => join(io.cwd, f)).find(existsSync);
  if (!found)
    throw new CliError(
      `No agent file here (${AGENT_FILES.join(', ')}): run parley create <dir> first, or pass --file.`,
      2,
    );
  return found;
}

export async function loadProjectAgent(
  io: Io,
  file?: string,
): Promise<{ path: string; agent: AgentDefinition }> {
  const path = agentFilePath(io, file);
  try {
    return { path, agent: await loadAgentFile(path) };
  } catch (error) {
    // Core's errors already list every problem with file:line:column.
    throw new CliError((error as Error).message, 1);
  }
}

/**
 * Values from the project's `.env` (KEY=value lines, # comments, optional quotes), under the
 * process environment: a variable set in the shell wins.
 */
export function projectEnv(io: Io): Record<string, string> {
  const values: Record<string, string> = {};
  const path = join(io.cwd, '.env');
  if (existsSync(path)) {
    for (const raw of readFileSync(path, 'utf8').split(/\r?\n/)) {
      const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*?)\s*$/.exec(raw);
      if (!m || raw.trimStart().startsWith('#')) continue;
      values[m[1]!] = m[2]!.replace(/^(['"])(.*)\1$/, '$2');
    }
  }
  for (const [k, v] of Object.entries(io.env)) if (v !== undefined && k in values) values[k] = v;
  return values;
}
