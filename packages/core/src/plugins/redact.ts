const REDACTED = '[REDACTED]';
const SECRET_KEY = /(api[-_]?key|token|secret|password|authorization|cookie)/i;
/** Shorter values, and shorter encoded forms, would match ordinary text. */
const MIN_VALUE_LENGTH = 4;
const MIN_ENCODED_LENGTH = 8;

/**
 * A secret as it can appear in text besides itself: URL-encoded, escaped inside JSON, and
 * base64 at each of the three byte alignments it can have inside a longer base64 string (a
 * `Basic` header of `user:key`), keeping only the characters that depend on the secret alone.
 */
function encodedForms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const forms = [encodeURIComponent(value), JSON.stringify(value).slice(1, -1)];
  for (const offset of [0, 1, 2]) {
    const base64 = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    // Leading characters mix in the bytes before; trailing ones the bytes after (or padding).
    const start = [0, 2, 3][offset]!;
    const end =
      (offset + bytes.length) % 3 === 0 ? base64.length : base64.replace(/=+$/, '').length - 1;
    const core = base64.slice(start, end);
    forms.push(core, core.replaceAll('+', '-').replaceAll('/', '_'));
  }
  return forms.filter((form) => form.length >= MIN_ENCODED_LENGTH && form !== value);
}

/**
 * Replaces every known secret value in strings (and its URL-encoded, JSON-escaped and base64
 * forms), and the values of secret-looking keys in objects, with [REDACTED]. Used on tool
 * logs, tool results and errors before they reach the model, the event stream or a log line.
 */
export function createRedactor(secretValues: Iterable<string>) {
  // What to look for, longest first: worked out again only when the secrets change (a tool
  // may read one mid-run), not for every string (each value has eleven encoded forms).
  let known: string[] = [];
  let searched: string[] = [];
  const values = () => {
    const current = [...secretValues];
    if (current.length !== known.length || current.some((value, i) => value !== known[i])) {
      known = current;
      searched = [
        ...new Set(
          current
            .filter((v) => v.length >= MIN_VALUE_LENGTH)
            .flatMap((v) => [v, ...encodedForms(v)]),
        ),
      ].sort((a, b) => b.length - a.length);
    }
    return searched;
  };
  const redactString = (text: string) => {
    let out = text;
    for (const value of values()) if (out.includes(value)) out = out.replaceAll(value, REDACTED);
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
