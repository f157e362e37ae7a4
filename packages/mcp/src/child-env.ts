import { AgentConfigError, refusedEnvName } from '@parley/core';

/**
 * Host variables every stdio MCP server gets: what a program needs to run at all. (The MCP
 * SDK passes HOME, LOGNAME, PATH, SHELL, TERM and USER itself, whatever it is given.)
 */
export const BASE_HOST_ENV: readonly string[] = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'TERM',
  'LANG',
  'LC_ALL',
  'TZ',
];

export interface ChildEnvOptions {
  /** Reads a workspace secret by name. */
  secret: (name: string) => Promise<string | undefined>;
  /** More host variables the operator passes through (PARLEY_MCP_ENV). */
  hostEnv?: readonly string[];
  /** The host's environment (default process.env). */
  from?: Readonly<Record<string, string | undefined>>;
}

/**
 * The environment of a stdio MCP server: the base host variables and the operator's, then the
 * agent's `secretEnv`, each checked again against the variable rules (a definition stored
 * before the rules existed is refused here too). Nothing else of the server's environment —
 * its master key, database URL, NODE_OPTIONS — reaches the program.
 */
export async function childEnv(
  server: { name: string; secretEnv: Readonly<Record<string, string>> },
  options: ChildEnvOptions,
): Promise<Record<string, string>> {
  const from = options.from ?? process.env;
  const env: Record<string, string> = {};
  for (const variable of [...BASE_HOST_ENV, ...(options.hostEnv ?? [])]) {
    const value = from[variable];
    // Exported shell functions are code, not values (as the MCP SDK's own filter).
    if (value !== undefined && !value.startsWith('()')) env[variable] = value;
  }
  for (const [variable, secretName] of Object.entries(server.secretEnv)) {
    const refused = refusedEnvName(variable);
    if (refused) throw new AgentConfigError(`MCP server ${server.name}: ${refused}`);
    const value = await options.secret(secretName);
    if (value === undefined)
      throw new AgentConfigError(
        `MCP server ${server.name} needs the secret ${secretName}: set it with \`parley secrets set ${secretName}\``,
      );
    env[variable] = value;
  }
  return env;
}
