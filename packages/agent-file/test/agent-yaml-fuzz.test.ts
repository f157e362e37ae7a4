import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentDefinition } from '@parley/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  AgentDefinitionError,
  loadAgentFile,
  parseAgentJson,
  parseAgentYaml,
  stringifyAgentYaml,
} from '../src/index.ts';

/**
 * The agent file loader takes text from anyone (a cloned repository, an API body, a pasted
 * file). Whatever the text, it answers with a valid definition or an AgentDefinitionError that
 * lists located problems in a readable message: never another exception, never a hang.
 */

const valid = {
  name: 'support-bot',
  instructions: 'You answer questions about Parley.',
  model: { provider: 'openai', model: 'gpt-4.1-mini' },
};

/** What a failure must look like: the typed error, every issue worded, no stack trace. */
function expectTypedFailure(error: unknown): void {
  expect(error).toBeInstanceOf(AgentDefinitionError);
  const e = error as AgentDefinitionError;
  expect(e.code).toBe('agent.invalid_definition');
  expect(e.issues.length).toBeGreaterThan(0);
  for (const issue of e.issues) expect(issue.message.trim()).not.toBe('');
  expect(e.message).toMatch(/^invalid agent definition/);
  expect(e.message).not.toMatch(/\n\s+at .+:\d+:\d+/);
  expect(e.message).not.toMatch(/\b(TypeError|ReferenceError|RangeError|undefined is not)\b/);
}

/** Parses, and checks the outcome: a valid definition that survives a round trip, or a typed error. */
function outcome(parse: (text: string) => AgentDefinition, text: string): 'ok' | 'invalid' {
  let agent: AgentDefinition;
  try {
    agent = parse(text);
  } catch (error) {
    expectTypedFailure(error);
    return 'invalid';
  }
  expect(parseAgentYaml(stringifyAgentYaml(agent))).toEqual(agent);
  return 'ok';
}

/** Text near the valid file: the valid fields, some replaced by arbitrary values, plus extras. */
const nearlyValid = fc
  .record({
    replace: fc.subarray(['name', 'instructions', 'model', 'plugins', 'maxSteps', 'memory']),
    value: fc.anything({ maxDepth: 3 }),
    extra: fc.dictionary(
      fc.constantFrom(
        'tools',
        'bio',
        'topics',
        'fallbackModels',
        'toolTimeoutMs',
        'x',
        '__proto__',
      ),
      fc.jsonValue({ maxDepth: 3 }),
      { maxKeys: 3 },
    ),
  })
  .map(({ replace, value, extra }) => {
    const doc: Record<string, unknown> = { ...valid, ...extra };
    for (const key of replace) doc[key] = value;
    return doc;
  });

const yamlText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 400 }),
  fc.jsonValue({ maxDepth: 4 }).map((v) => stringify(v)),
  nearlyValid.map((v) => stringify(v)),
  // Lines of YAML-ish punctuation: anchors, aliases, tags, flow, block scalars, documents.
  fc
    .array(
      fc.constantFrom(
        'name: a',
        'instructions: |',
        '  text',
        'model: {provider: openai, model: m}',
        '&a [1, 2]',
        '*a',
        'x: *a',
        '!!binary aGk=',
        '? complex',
        '---',
        '...',
        '- item',
        '\t- tab',
        '"unclosed',
        '{[',
        '<<: *a',
        '%YAML 1.2',
        'maxSteps: 1e400',
      ),
      { maxLength: 12 },
    )
    .map((lines) => lines.join('\n')),
);

describe('the agent.yaml loader, fed arbitrary text', () => {
  it('answers YAML with a definition or an AgentDefinitionError', () => {
    fc.assert(
      fc.property(yamlText, (text) => {
        outcome(parseAgentYaml, text);
      }),
      { numRuns: 400 },
    );
  });

  it('answers JSON with a definition or an AgentDefinitionError', () => {
    const jsonText = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 400 }),
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
      nearlyValid.map((v) => JSON.stringify(v)),
      nearlyValid.map((v) => JSON.stringify(v).slice(0, -1)),
    );
    fc.assert(
      fc.property(jsonText, (text) => {
        outcome(parseAgentJson, text);
      }),
      { numRuns: 400 },
    );
  });

  it('accepts what it should: nearly valid documents whose replaced fields are still valid', () => {
    // Guards the property above against a loader that refuses everything.
    expect(outcome(parseAgentYaml, stringify(valid))).toBe('ok');
    expect(outcome(parseAgentJson, JSON.stringify(valid))).toBe('ok');
    expect(outcome(parseAgentYaml, `\uFEFF${stringify({ ...valid, maxSteps: 3 })}`)).toBe('ok');
  });

  it.each([
    [
      'an alias bomb (each level nine times the last)',
      [
        'a: &a [x, x, x, x, x, x, x, x, x]',
        ...'bcdefg'
          .split('')
          .map((l, i) => `${l}: &${l} [${Array(9).fill(`*${'abcdefg'[i]}`).join(', ')}]`),
        `name: [${Array(9).fill('*g').join(', ')}]`,
      ].join('\n'),
      /aliases \(\*name\) expand too much/,
    ],
    ['flow nesting deeper than the stack', `name: ${'['.repeat(20_000)}`, /nested too deeply|YAML/],
    ['a self-referencing alias', 'a: &a [*a]\n', /unknown key/],
    ['a JS function tag', 'name: !!js/function "() => 1"\n', /instructions/],
    ['a second document', `${stringify(valid)}---\n${stringify(valid)}`, /one agent/],
  ])('refuses %s with a message that says what is wrong', (_, text, message) => {
    let thrown: unknown;
    try {
      parseAgentYaml(text);
    } catch (error) {
      thrown = error;
    }
    expectTypedFailure(thrown);
    expect((thrown as Error).message).toMatch(message);
  });

  it('lists 50 problems of a file with thousands, and says how many more (an API body is validated the same way)', () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => `k${i}: ${i}`);
    for (const text of [keys.join('\n'), `${keys.join('\n')}\nk7: again`]) {
      let thrown: unknown;
      try {
        parseAgentYaml(text);
      } catch (error) {
        thrown = error;
      }
      expectTypedFailure(thrown);
      const { issues } = thrown as AgentDefinitionError;
      if (text.endsWith('again')) {
        // A duplicate key is a syntax error, reported alone, where the second one starts.
        expect(issues).toEqual([
          { path: '', line: 20_001, column: 1, message: 'YAML syntax error: duplicate key' },
        ]);
        continue;
      }
      expect(issues).toHaveLength(51);
      expect(issues[0]).toMatchObject({ path: 'k0', line: 1, message: /^unknown key/ });
      // 20,000 unknown keys and 3 missing fields, 50 of them listed.
      expect(issues[50]).toEqual({
        path: '',
        message: '19953 more problems not listed: fix these first',
      });
    }
  });

  it('refuses JSON nested deeper than the stack with a located error', () => {
    let thrown: unknown;
    try {
      parseAgentJson(`${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`);
    } catch (error) {
      thrown = error;
    }
    expectTypedFailure(thrown);
    expect((thrown as Error).message.length).toBeLessThan(2_000);
  });
});

describe('loadAgentFile, fed arbitrary bytes', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-agent-fuzz-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads any bytes as .yaml or .json into a definition or an AgentDefinitionError', async () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      nearlyValid.map((v) => new TextEncoder().encode(stringify(v))),
      // UTF-16 with a byte order mark, as some editors save.
      nearlyValid.map((v) => Buffer.from(`\uFEFF${stringify(v)}`, 'utf16le')),
    );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        bytes,
        fc.constantFrom('agent.yaml', 'agent.yml', 'agent.json'),
        async (b, name) => {
          const path = join(dir, `${n++}-${name}`);
          await writeFile(path, b);
          try {
            await loadAgentFile(path);
          } catch (error) {
            expectTypedFailure(error);
            expect((error as AgentDefinitionError).file).toBe(path);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
