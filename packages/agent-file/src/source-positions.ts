/** A 1-based place in a source text. */
export interface SourcePosition {
  line: number;
  column: number;
}

/**
 * Where each field of a parsed document starts, keyed by `formatPath`. A mapping entry is
 * located at its key (that is what an editor should jump to); a list item at the item.
 */
export type SourcePositions = Map<string, SourcePosition>;

const identifier = /^[A-Za-z_$][\w$]*$/;

/** `['model', 'provider']` → `model.provider`; `['examples', 0, 1]` → `examples[0][1]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (typeof segment === 'string' && identifier.test(segment)) {
      text += text === '' ? segment : `.${segment}`;
    } else text += `[${JSON.stringify(String(segment))}]`;
  }
  return text;
}

/**
 * The position of `path`, or of its nearest ancestor that exists in the source: a missing
 * field is reported where its parent object starts.
 */
export function positionOf(
  positions: SourcePositions,
  path: readonly PropertyKey[],
): SourcePosition | undefined {
  for (let length = path.length; length >= 0; length--) {
    const found = positions.get(formatPath(path.slice(0, length)));
    if (found) return found;
  }
  return undefined;
}

/** Turns character offsets into line/column (binary search over the line starts). */
export function createLineIndex(text: string): (offset: number) => SourcePosition {
  const lineStarts = [0];
  for (let index = text.indexOf('\n'); index !== -1; index = text.indexOf('\n', index + 1)) {
    lineStarts.push(index + 1);
  }
  return (offset) => {
    let low = 0;
    let high = lineStarts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (lineStarts[middle]! <= offset) low = middle;
      else high = middle - 1;
    }
    return { line: low + 1, column: offset - lineStarts[low]! + 1 };
  };
}
