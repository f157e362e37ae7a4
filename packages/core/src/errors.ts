import type { LibraryErrorCode } from '@parley/protocol';

/**
 * Errors core raises to its callers, each with a stable `code` from the error-code table
 * (@parley/protocol's ERROR_CODES) that the server maps to problem+json and the CLI to a
 * message. (Errors *inside* a run travel as stream events.)
 */
export class CoreError extends Error {
  override readonly name: string = 'CoreError';
  readonly code: LibraryErrorCode;
  constructor(code: LibraryErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** A plugin cannot be loaded: wrong contract, unbounded or unmatched core range, bad shape. */
export class PluginCompatibilityError extends CoreError {
  override readonly name = 'PluginCompatibilityError';
  constructor(message: string) {
    super('plugin.incompatible', message);
  }
}

/** A plugin touched a secret or host it did not declare. */
export class PermissionDeniedError extends CoreError {
  override readonly name = 'PermissionDeniedError';
  readonly plugin: string;
  readonly resource: string;
  constructor(plugin: string, resource: string, message: string) {
    super('plugin.permission_denied', message);
    this.plugin = plugin;
    this.resource = resource;
  }
}

/** An agent refers to something that is not there (a plugin, a tool, a model provider). */
export class AgentConfigError extends CoreError {
  override readonly name = 'AgentConfigError';
  constructor(message: string) {
    super('agent.invalid_config', message);
  }
}

/** A tool ran longer than its timeout. */
export class ToolTimeoutError extends CoreError {
  override readonly name = 'ToolTimeoutError';
  constructor(tool: string, ms: number) {
    super('tool.timeout', `tool ${tool} did not finish within ${ms} ms`);
  }
}
