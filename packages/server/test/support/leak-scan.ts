import { randomBytes } from 'node:crypto';
import { isWellFormedApiToken } from '@parley/store';

/*
 * Secret-leak scanning for the test suite: the patterns of credentials that must never reach
 * a log line or a stored run event, and a sink that scans pino's lines as they are written.
 * The shared harness (harness.ts) routes every test server's log through a sink and scans the
 * stored events of its runs when it closes; a finding fails the test file's close().
 */

export interface LeakPattern {
  name: string;
  /** Global, so every occurrence in a text is found. */
  regex: RegExp;
  /** A second look at a candidate (our tokens carry a checksum): false drops it. */
  confirm?: (match: string) => boolean;
}

/**
 * What a leaked credential looks like:
 *  - `anthropic-key`: `sk-ant-` and at least 20 more key characters (Anthropic's keys).
 *  - `openai-key`: `sk-` (also `sk-proj-`, `sk-svcacct-`) and at least 20 key characters, not
 *    preceded by a letter or digit (so `task-…` or `disk-…` are not keys).
 *  - `parley-token`: `prl_` and 36 base62 characters whose last 6 are the CRC32 checksum of
 *    the rest (packages/store/src/auth/tokens.ts): a real token, not a look-alike.
 *  - `bearer`: `Bearer ` followed by at least 20 token characters, whatever the scheme's
 *    credential (an Authorization header that escaped redaction).
 */
export const LEAK_PATTERNS: readonly LeakPattern[] = [
  { name: 'anthropic-key', regex: /(?<![A-Za-z0-9])sk-ant-[A-Za-z0-9_-]{20,}/g },
  { name: 'openai-key', regex: /(?<![A-Za-z0-9])sk-(?!ant-)[A-Za-z0-9_-]{20,}/g },
  {
    name: 'parley-token',
    regex: /(?<![A-Za-z0-9])prl_[0-9A-Za-z]{36}(?![0-9A-Za-z])/g,
    confirm: isWellFormedApiToken,
  },
  { name: 'bearer', regex: /\bBearer\s+[A-Za-z0-9._~+/=-]{20,}/gi },
];

/**
 * A value no code path has any business repeating: the harness stores it as a workspace secret
 * on every test server, so finding it in a log line or a run event means secrets leaked.
 */
export const CANARY = `parley-canary-${randomBytes(18).toString('hex')}`;

export interface Leak {
  pattern: string;
  /** Where it was found: `log` or `run <id> events`. */
  where: string;
  /** The test that was running (from Vitest), if any. */
  test?: string;
  /** The finding with its middle masked, safe to print. */
  sample: string;
}

const mask = (value: string) =>
  value.length <= 12 ? `${value.slice(0, 4)}…` : `${value.slice(0, 8)}…${value.slice(-2)}`;

/** Every credential (and every given needle, such as the canary) in `text`. */
export function findLeaks(
  text: string,
  options: { needles?: readonly string[] } = {},
): { pattern: string; match: string }[] {
  const found: { pattern: string; match: string }[] = [];
  for (const pattern of LEAK_PATTERNS) {
    for (const m of text.matchAll(pattern.regex)) {
      if (!pattern.confirm || pattern.confirm(m[0]))
        found.push({ pattern: pattern.name, match: m[0] });
    }
  }
  for (const needle of options.needles ?? []) {
    if (needle && text.includes(needle)) found.push({ pattern: 'canary', match: needle });
  }
  return found;
}

export class LeakError extends Error {
  override readonly name = 'LeakError';
  readonly leaks: Leak[];
  constructor(leaks: Leak[]) {
    super(
      `secrets leaked into logs or run events:\n${leaks
        .slice(0, 20)
        .map(
          (l) => `  ${l.pattern} in ${l.where}${l.test ? ` (test: ${l.test})` : ''}: ${l.sample}`,
        )
        .join('\n')}${leaks.length > 20 ? `\n  … and ${leaks.length - 20} more` : ''}`,
    );
    this.leaks = leaks;
  }
}

/**
 * A pino destination that scans each line as it is written and keeps only the findings (a
 * suite writes millions of lines; none is stored). `forward` receives every line too (a test
 * that wants its server's log keeps getting it).
 */
export function createLeakSink(
  options: {
    needles?: readonly string[];
    forward?: (line: string) => void;
    /** Names the running test for a finding. */
    currentTest?: () => string | undefined;
  } = {},
) {
  const leaks: Leak[] = [];
  let lines = 0;
  return {
    write(line: string) {
      lines++;
      for (const found of findLeaks(line, options)) {
        const test = options.currentTest?.();
        leaks.push({
          pattern: found.pattern,
          where: 'log',
          ...(test ? { test } : {}),
          sample: mask(found.match),
        });
      }
      options.forward?.(line);
    },
    /** Adds findings from elsewhere (stored run events). */
    report(text: string, where: string) {
      for (const found of findLeaks(text, options))
        leaks.push({ pattern: found.pattern, where, sample: mask(found.match) });
    },
    get lines() {
      return lines;
    },
    get leaks(): readonly Leak[] {
      return leaks;
    },
    /** Throws LeakError when anything was found. */
    check() {
      if (leaks.length > 0) throw new LeakError([...leaks]);
    },
  };
}

export type LeakSink = ReturnType<typeof createLeakSink>;
