import type { ApiErrorCode } from '../api/problem.ts';

/**
 * What the libraries throw to their callers (`error.code`): the agent runtime (@parley/core),
 * the sandbox for community plugins (@parley/sandbox) and the provider adapters
 * (@parley/providers). These never travel as such: inside a run a failure becomes a stream
 * error (`internal`, a tool result's error), and before a run the server answers with the API
 * code in `answeredAs`. They are listed so code that calls the libraries (a CLI, a test kit,
 * an embedding application) can branch on them with types.
 */
interface LibraryCode {
  retryable: boolean;
  summary: string;
  /**
   * The problem+json code the HTTP API answers with when this is thrown while a request is
   * handled (before a run starts); absent for codes that only arise inside a run, where they
   * become a tool result's error or the run's `run.error`.
   */
  answeredAs?: ApiErrorCode;
}

export const CORE_ERROR_CODES = {
  'agent.invalid_definition': {
    retryable: false,
    summary:
      'An agent definition (agent.yaml, agent.json, an API body) is invalid; `issues` lists every problem.',
    answeredAs: 'agent.invalid_definition',
  },
  'agent.file_not_found': {
    retryable: false,
    summary: 'The agent file does not exist.',
    answeredAs: 'agent.unavailable',
  },
  'agent.unsupported_file_type': {
    retryable: false,
    summary: 'The agent file is neither YAML nor JSON by its extension.',
    answeredAs: 'agent.unavailable',
  },
  'agent.invalid_eliza_character': {
    retryable: false,
    summary: 'An ElizaOS character cannot be imported (not an object, no name, a wrong field).',
    answeredAs: 'agent.unavailable',
  },
  'agent.invalid_config': {
    retryable: false,
    summary:
      'The agent refers to something this runtime lacks: a plugin not installed or of another version, a tool no plugin defines, a tool defined twice, an MCP server it may not reach.',
    answeredAs: 'agent.unavailable',
  },
  'plugin.incompatible': {
    retryable: false,
    summary:
      'A plugin cannot be loaded: another contract, an unbounded or unmatched core range, a bad shape.',
    answeredAs: 'agent.unavailable',
  },
  'plugin.permission_denied': {
    retryable: false,
    summary:
      "A plugin touched a secret or host it did not declare (inside a run: the tool call's error).",
  },
  'tool.timeout': {
    retryable: false,
    summary: 'A tool ran longer than its timeout (its result is an error the model sees).',
  },
  'tool.cancelled': {
    retryable: false,
    summary: 'A tool call was cancelled with its run.',
  },
} as const satisfies Record<string, LibraryCode>;
export type CoreErrorCode = keyof typeof CORE_ERROR_CODES;

export const SANDBOX_ERROR_CODES = {
  'plugin.start_failed': {
    retryable: false,
    summary:
      "A community plugin's process could not be started (a bad entry; it crashed or hung while loading).",
    answeredAs: 'agent.unavailable',
  },
  'plugin.crashed': {
    retryable: true,
    summary:
      "A community plugin's process exited during a tool call; it was restarted for the next call.",
  },
} as const satisfies Record<string, LibraryCode>;
export type SandboxErrorCode = keyof typeof SANDBOX_ERROR_CODES;

export const PROVIDER_ERROR_CODES = {
  'provider.invalid_config': {
    retryable: false,
    summary:
      'A model setting names no provider Parley knows, or lacks what the provider needs (a key, a base URL); inside a run it ends the run with `internal`.',
  },
} as const satisfies Record<string, LibraryCode>;
export type ProviderErrorCode = keyof typeof PROVIDER_ERROR_CODES;
