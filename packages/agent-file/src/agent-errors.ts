import { CoreError } from '@parley/core';

/** One problem in an agent definition, located in its source file when there is one. */
export interface AgentDefinitionIssue {
  /** The field, as `model.provider` or `examples[0][1].role`; empty for the whole document. */
  path: string;
  /** 1-based line in the source text. */
  line?: number;
  /** 1-based column in the source text. */
  column?: number;
  message: string;
}

/**
 * An agent definition (agent.yaml / agent.json / an API body) is not valid. Lists every problem,
 * not only the first, so one edit-and-retry round fixes them all.
 */
export class AgentDefinitionError extends CoreError {
  override readonly name = 'AgentDefinitionError';
  override readonly code = 'agent.invalid_definition';
  readonly issues: AgentDefinitionIssue[];
  /** The file the definition came from, as the caller named it. */
  readonly file: string | undefined;

  constructor(issues: AgentDefinitionIssue[], options: { file?: string } = {}) {
    super('agent.invalid_definition', formatIssues(issues, options.file));
    this.issues = issues;
    this.file = options.file;
  }
}

export type AgentFileErrorCode = 'agent.file_not_found' | 'agent.unsupported_file_type';

/** An agent file cannot be read at all: it is missing, or not YAML/JSON by its extension. */
export class AgentFileError extends CoreError {
  override readonly name = 'AgentFileError';
  override readonly code: AgentFileErrorCode;
  readonly file: string;

  constructor(code: AgentFileErrorCode, file: string, message: string) {
    super(code, message);
    this.code = code;
    this.file = file;
  }
}

/** An ElizaOS character cannot be imported (not an object, no name, a field of the wrong type). */
export class ElizaCharacterError extends CoreError {
  override readonly name = 'ElizaCharacterError';
  override readonly code = 'agent.invalid_eliza_character';
  readonly issues: AgentDefinitionIssue[];

  constructor(issues: AgentDefinitionIssue[]) {
    super('agent.invalid_eliza_character', formatIssues(issues, undefined, 'ElizaOS character'));
    this.issues = issues;
  }
}

/** `agent.yaml:7:3 model.provider: expected one of …`, one line per issue. */
export function formatIssue(issue: AgentDefinitionIssue, file?: string): string {
  const position = issue.line === undefined ? '' : `${issue.line}:${issue.column ?? 1}`;
  const location = [file, position].filter(Boolean).join(':');
  const field = issue.path === '' ? '' : `${issue.path}: `;
  return `${location ? `${location} ` : ''}${field}${issue.message}`;
}

function formatIssues(issues: AgentDefinitionIssue[], file?: string, what = 'agent definition') {
  if (issues.length === 1) return `invalid ${what}: ${formatIssue(issues[0]!, file)}`;
  const lines = issues.map((issue) => `  ${formatIssue(issue, file)}`);
  return `invalid ${what} (${issues.length} problems):\n${lines.join('\n')}`;
}
