const LINE_WIDTH = 100;

/**
 * JSON as Biome formats it (line width 100): objects expanded, arrays of plain values on one
 * line when the whole line fits. `prefix` is what comes before the value on its line.
 */
export function printJson(value: unknown, indent = '', prefix = indent.length): string {
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const flat = value.every((item) => item === null || typeof item !== 'object');
    const oneLine = `[${value.map((item) => JSON.stringify(item)).join(', ')}]`;
    // +1 for the comma that may follow.
    if (flat && prefix + oneLine.length + 1 <= LINE_WIDTH) return oneLine;
    return `[\n${value.map((item) => inner + printJson(item, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, item]) => item !== undefined);
    if (entries.length === 0) return '{}';
    const lines = entries.map(([key, item]) => {
      const head = `${inner}${JSON.stringify(key)}: `;
      return head + printJson(item, inner, head.length);
    });
    return `{\n${lines.join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}
