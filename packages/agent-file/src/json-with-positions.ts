import type { AgentDefinitionIssue } from './agent-errors.ts';
import { createLineIndex, formatPath, type SourcePositions } from './source-positions.ts';

export interface JsonWithPositions {
  /** Undefined when there was a syntax error. */
  value: unknown;
  positions: SourcePositions;
  /** A syntax error (parsing stops at the first), or duplicate keys (all of them). */
  problems: AgentDefinitionIssue[];
}

type Path = (string | number)[];

class JsonSyntaxFailure extends Error {
  readonly offset: number;
  readonly path: Path;
  constructor(offset: number, path: Path, message: string) {
    super(message);
    this.offset = offset;
    this.path = path;
  }
}

const maxDepth = 200;

/**
 * A strict JSON parser that also records where each field starts. `JSON.parse` gives neither
 * positions for valid input nor, on Node 24, a line for every syntax error; agent.json errors
 * must point at a line. Duplicate keys are reported (JSON.parse would keep the last silently).
 */
export function parseJsonWithPositions(text: string): JsonWithPositions {
  const toPosition = createLineIndex(text);
  const positions: SourcePositions = new Map();
  const problems: AgentDefinitionIssue[] = [];
  let offset = 0;

  const fail = (message: string, path: Path, at = offset): never => {
    throw new JsonSyntaxFailure(at, path, message);
  };

  const skipWhitespace = (path: Path) => {
    while (offset < text.length) {
      const char = text[offset];
      if (char === ' ' || char === '\t' || char === '\n' || char === '\r') offset++;
      else if (char === '/' && (text[offset + 1] === '/' || text[offset + 1] === '*')) {
        fail('comments are not allowed in JSON (use agent.yaml for comments)', path);
      } else return;
    }
  };

  const parseString = (path: Path): string => {
    const start = offset;
    offset++;
    while (offset < text.length && text[offset] !== '"') {
      const char = text[offset];
      if (char === '\n' || char === '\r') {
        fail(
          'the string opened here is not closed on its line (write a line break as \\n)',
          path,
          start,
        );
      }
      if (text.charCodeAt(offset) < 0x20)
        fail('control characters in strings must be escaped', path);
      offset += text[offset] === '\\' ? 2 : 1;
    }
    if (offset >= text.length) fail('unterminated string', path, start);
    offset++;
    try {
      return JSON.parse(text.slice(start, offset)) as string;
    } catch {
      return fail('invalid escape sequence in string', path, start);
    }
  };

  const parseWord = (path: Path): unknown => {
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, offset)) {
        offset += word.length;
        return value;
      }
    }
    const number = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    number.lastIndex = offset;
    const match = number.exec(text);
    if (match && match[0] !== '-') {
      offset += match[0].length;
      return Number(match[0]);
    }
    const word = /[^\s,:{}[\]"]{1,20}/y;
    word.lastIndex = offset;
    const found = word.exec(text)?.[0] ?? text[offset];
    const hint = text[offset] === "'" ? ' (strings need double quotes)' : '';
    return fail(`unexpected ${JSON.stringify(found)}${hint}`, path);
  };

  const parseValue = (path: Path): unknown => {
    if (path.length > maxDepth) fail('nesting too deep', path);
    skipWhitespace(path);
    const char = text[offset];
    if (char === undefined) return fail('unexpected end of input, expected a value', path);
    if (char === '{') return parseObject(path);
    if (char === '[') return parseArray(path);
    if (char === '"') return parseString(path);
    return parseWord(path);
  };

  const parseObject = (path: Path): Record<string, unknown> => {
    const object: Record<string, unknown> = {};
    offset++;
    skipWhitespace(path);
    if (text[offset] === '}') {
      offset++;
      return object;
    }
    for (;;) {
      skipWhitespace(path);
      if (text[offset] === '}') fail('trailing comma before "}" is not allowed in JSON', path);
      if (text[offset] !== '"') {
        fail(
          offset >= text.length
            ? 'unexpected end of input, expected a property name'
            : 'property names must be in double quotes',
          path,
        );
      }
      const keyStart = offset;
      const key = parseString(path);
      const keyPath = [...path, key];
      const formatted = formatPath(keyPath);
      if (positions.has(formatted)) {
        problems.push({ path: formatted, ...toPosition(keyStart), message: 'duplicate key' });
      }
      positions.set(formatted, toPosition(keyStart));
      skipWhitespace(path);
      if (text[offset] !== ':') fail(`expected ":" after the property name "${key}"`, keyPath);
      offset++;
      // defineProperty, not assignment: a "__proto__" key must stay data, not set the prototype.
      Object.defineProperty(object, key, {
        value: parseValue(keyPath),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      const valueEnd = offset;
      skipWhitespace(path);
      if (text[offset] === ',') offset++;
      else if (text[offset] === '}') {
        offset++;
        return object;
      } else fail(`expected "," or "}" after the value of "${key}"`, keyPath, valueEnd);
    }
  };

  const parseArray = (path: Path): unknown[] => {
    const array: unknown[] = [];
    offset++;
    skipWhitespace(path);
    if (text[offset] === ']') {
      offset++;
      return array;
    }
    for (;;) {
      skipWhitespace(path);
      if (text[offset] === ']') fail('trailing comma before "]" is not allowed in JSON', path);
      const itemPath = [...path, array.length];
      positions.set(formatPath(itemPath), toPosition(offset));
      array.push(parseValue(itemPath));
      const valueEnd = offset;
      skipWhitespace(path);
      if (text[offset] === ',') offset++;
      else if (text[offset] === ']') {
        offset++;
        return array;
      } else fail('expected "," or "]" after a list item', itemPath, valueEnd);
    }
  };

  try {
    skipWhitespace([]);
    positions.set('', toPosition(offset));
    const value = parseValue([]);
    skipWhitespace([]);
    if (offset < text.length) fail('unexpected content after the end of the JSON value', []);
    return { value, positions, problems };
  } catch (error) {
    if (!(error instanceof JsonSyntaxFailure)) throw error;
    const problem = {
      path: formatPath(error.path),
      ...toPosition(error.offset),
      message: `JSON syntax error: ${error.message}`,
    };
    return { value: undefined, positions, problems: [problem] };
  }
}
