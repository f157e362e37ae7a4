const REDACTED = '[REDACTED]';
const SECRET_KEY = /(api[-_]?key|token|secret|password|authorization|cookie)/i;

/**
 * Replaces every known secret value in strings, and the values of secret-looking keys in
 * objects, with [REDACTED]. Used on tool logs, tool results and errors before they reach
 * the model, the event stream or a log line.
 */
export function createRedactor(secretValues: Iterable<string>) {
  const values = () =>
    [...secretValues].filter((v) => v.length >= 4).sort((a, b) => b.length - a.length);
  const redactString = (text: string) => {
    let out = text;
    for (const value of values()) out = out.split(value).join(REDACTED);
    return out;
  };
  const redact = (value: unknown, depth = 0): unknown => {
    if (typeof value === 'string') return redactString(value);
    if (depth > 20 || value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] =
        SECRET_KEY.test(key) && typeof item === 'string' ? REDACTED : redact(item, depth + 1);
    }
    return out;
  };
  return { redact, redactString };
}
