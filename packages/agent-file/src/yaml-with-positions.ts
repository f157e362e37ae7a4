import {
  type Document,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  visit,
  type YAMLError,
} from 'yaml';
import type { AgentDefinitionIssue } from './agent-errors.ts';
import { formatPath, type SourcePosition, type SourcePositions } from './source-positions.ts';

export interface YamlWithPositions {
  /** Undefined when the text has syntax errors. */
  value: unknown;
  positions: SourcePositions;
  /** Every syntax error the parser found (duplicate keys included). */
  problems: AgentDefinitionIssue[];
}

const friendlyMessages: Partial<Record<string, string>> = {
  MULTIPLE_DOCS: 'a file holds one agent: remove the extra "---" document',
  DUPLICATE_KEY: 'duplicate key',
  TAB_AS_INDENT: 'tabs are not allowed for indentation in YAML, use spaces',
};

/** Parses YAML keeping, for every field, the line and column where it starts. */
export function parseYamlWithPositions(text: string): YamlWithPositions {
  const lineCounter = new LineCounter();
  // Duplicate keys are found by `collect` in one pass: the library's own check compares every
  // key with every other (20,000 keys took 8 s).
  const document = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: false });
  const toPosition = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };

  if (document.errors.length > 0) {
    const problems: AgentDefinitionIssue[] = [];
    const linesWithProblems = new Set<number>();
    for (const error of document.errors) {
      const position = toPosition(errorOffset(document, error));
      // One mistake often makes the parser stumble over the rest of its line: keep the first.
      if (linesWithProblems.has(position.line)) continue;
      linesWithProblems.add(position.line);
      const message = friendlyMessage(error);
      problems.push({ path: '', ...position, message: `YAML syntax error: ${message}` });
    }
    return { value: undefined, positions: new Map(), problems };
  }

  const positions: SourcePositions = new Map();
  const root = document.contents;
  positions.set('', root?.range ? toPosition(root.range[0]) : { line: 1, column: 1 });
  try {
    const duplicates: SourcePosition[] = [];
    collect(root, [], positions, toPosition, duplicates);
    if (duplicates.length > 0) {
      const problems = duplicates.map((position) => ({
        path: '',
        ...position,
        message: `YAML syntax error: ${friendlyMessages.DUPLICATE_KEY}`,
      }));
      return { value: undefined, positions: new Map(), problems };
    }
    return { value: document.toJS(), positions, problems: [] };
  } catch (error) {
    // The text parsed but cannot become a value: aliases that expand without bound (the
    // library refuses them, with a ReferenceError) or nesting deeper than the stack.
    const message = /alias/i.test((error as Error).message)
      ? 'aliases (*name) expand too much: write the values out'
      : 'nested too deeply';
    return { value: undefined, positions: new Map(), problems: [atStart(message)] };
  }
}

function atStart(message: string): AgentDefinitionIssue {
  return { path: '', line: 1, column: 1, message: `YAML syntax error: ${message}` };
}

function collect(
  node: unknown,
  path: (string | number)[],
  positions: SourcePositions,
  toPosition: (offset: number) => SourcePosition,
  duplicates: SourcePosition[],
): void {
  if (isMap(node)) {
    const keys = new Set<unknown>();
    for (const pair of node.items) {
      if (!isPair(pair) || !isScalar(pair.key)) continue;
      const range = (pair.key as Node).range;
      if (keys.has(pair.key.value)) {
        duplicates.push(range ? toPosition(range[0]) : { line: 1, column: 1 });
        continue;
      }
      keys.add(pair.key.value);
      const keyPath = [...path, String(pair.key.value)];
      if (range) positions.set(formatPath(keyPath), toPosition(range[0]));
      collect(pair.value, keyPath, positions, toPosition, duplicates);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => {
      const itemPath = [...path, index];
      const range = (item as Node | null)?.range;
      if (range) positions.set(formatPath(itemPath), toPosition(range[0]));
      collect(item, itemPath, positions, toPosition, duplicates);
    });
  }
}

/**
 * Where to point for an error. The parser notices an unclosed quote only where the text ends;
 * the fix belongs where the string opens.
 */
function errorOffset(document: Document.Parsed, error: YAMLError): number {
  let offset = error.pos[0];
  if (error.code !== 'MISSING_CHAR' || !error.message.includes('quote')) return offset;
  visit(document, {
    Scalar(_, node) {
      const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE';
      if (quoted && node.range && node.range[0] < offset && node.range[1] >= error.pos[0]) {
        offset = node.range[0];
      }
    },
  });
  return offset;
}

function friendlyMessage(error: YAMLError): string {
  const unclosedQuote = /^Missing closing (["'])quote/.exec(error.message)?.[1];
  if (unclosedQuote) return `the string opened here has no closing ${unclosedQuote}`;
  if (error.message.includes('Maximum call stack')) return 'nested too deeply';
  return friendlyMessages[error.code] ?? firstLine(error.message);
}

/** The parser's message without the "at line …" suffix and the source excerpt it appends. */
function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}
