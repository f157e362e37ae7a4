/*
 * Bounded metrics label values (issue #30). Model names and support channels are text a
 * workspace member chooses, and every distinct label value is a time series of its own: 150
 * model names grew /metrics from 13 KB to 1.28 MB. Each label keeps at most MAX_LABEL_LENGTH
 * characters and MAX_LABEL_VALUES distinct values; later values share the `other` series.
 */

export const MAX_LABEL_LENGTH = 64;
export const MAX_LABEL_VALUES = 20;
export const OTHER_LABEL = 'other';

/** The value label `name` is recorded under: itself (shortened), or `other` once the label is full. */
export type LabelBounds = (name: string, value: string) => string;

/** Shortens to `max` characters, by code point (never half a surrogate pair). */
function shorten(value: string, max: number): string {
  if (value.length <= max) return value;
  return `${Array.from(value)
    .slice(0, max - 1)
    .join('')}…`;
}

/** One per registry: the distinct values each label name has taken so far. */
export function createLabelBounds(
  options: { maxLength?: number; maxValues?: number } = {},
): LabelBounds {
  const maxLength = options.maxLength ?? MAX_LABEL_LENGTH;
  const maxValues = options.maxValues ?? MAX_LABEL_VALUES;
  const seen = new Map<string, Set<string>>();
  return (name, value) => {
    const short = shorten(value, maxLength);
    const values = seen.get(name) ?? new Set<string>();
    seen.set(name, values);
    if (values.has(short)) return short;
    if (values.size >= maxValues) return OTHER_LABEL;
    values.add(short);
    return short;
  };
}
