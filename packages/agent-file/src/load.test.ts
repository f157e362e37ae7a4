import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AgentDefinition, AgentDefinitionSchema } from '@parley/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentDefinitionError, AgentFileError } from './agent-errors.ts';
import { didYouMean } from './did-you-mean.ts';
import { loadAgentFile, parseAgentJson, parseAgentYaml, stringifyAgentYaml } from './load.ts';

const validYaml = `name: support-bot
instructions: |
  You answer questions about Parley.
  Be brief.
model:
  provider: openai
  model: gpt-4.1-mini
`;

const validJson = `{
  "name": "support-bot",
  "instructions": "You answer questions about Parley.\\nBe brief.\\n",
  "model": { "provider": "openai", "model": "gpt-4.1-mini" }
}
`;

/** Runs `parse` expecting an AgentDefinitionError, and returns it. */
function definitionError(parse: () => unknown): AgentDefinitionError {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(AgentDefinitionError);
    return error as AgentDefinitionError;
  }
  throw new Error('expected an AgentDefinitionError, but parsing succeeded');
}

describe('parseAgentYaml', () => {
  it('returns a validated definition with the defaults filled in', () => {
    const agent = parseAgentYaml(validYaml);
    expect(agent).toEqual({
      name: 'support-bot',
      instructions: 'You answer questions about Parley.\nBe brief.\n',
      bio: [],
      style: [],
      topics: [],
      examples: [],
      model: { provider: 'openai', model: 'gpt-4.1-mini', params: {} },
      fallbackModels: [],
      plugins: [],
      mcp: [],
      memory: {
        enabled: true,
        recallLimit: 5,
        autoExtract: true,
        scopes: ['conversation', 'user', 'agent'],
      },
      knowledge: { bases: [], limit: 5 },
      maxSteps: 8,
      toolTimeoutMs: 30_000,
      requireApproval: [],
      agents: [],
    });
  });

  it('points a Claude Desktop style mcpServers key at mcp', () => {
    const text = `name: a
instructions: b
model: { provider: scripted, model: m }
mcpServers: { notes: { command: notes-mcp } }
`;
    const error = definitionError(() => parseAgentYaml(text, { file: 'agent.yaml' }));
    expect(error.issues).toEqual([
      {
        path: 'mcpServers',
        line: 4,
        column: 1,
        message: expect.stringMatching(/^unknown key \(did you mean "mcp"\? It is a list/),
      },
    ]);
  });

  it('points at file:line:column and the field of a bad enum value', () => {
    const text = `name: support-bot
instructions: Be brief.
# the model block
model:
  model: gpt-4.1-mini

  provider: gpt
`;
    const error = definitionError(() => parseAgentYaml(text, { file: 'agent.yaml' }));
    expect(error.code).toBe('agent.invalid_definition');
    expect(error.file).toBe('agent.yaml');
    expect(error.issues).toEqual([
      {
        path: 'model.provider',
        line: 7,
        column: 3,
        message:
          'expected one of openai, openai-responses, anthropic, openrouter, openai-compatible, scripted',
      },
    ]);
    expect(error.message).toBe(
      'invalid agent definition: agent.yaml:7:3 model.provider: expected one of openai, openai-responses, anthropic, openrouter, openai-compatible, scripted',
    );
  });

  it('reports every problem at once, in file order', () => {
    const text = `name: "bad name!"
instruction: Be brief.
maxSteps: ten
model:
  provider: openai
  params:
    temperature: 5
examples:
  - - role: human
      content: hi
`;
    const error = definitionError(() => parseAgentYaml(text, { file: 'agent.yaml' }));
    expect(error.issues).toEqual([
      { path: 'name', line: 1, column: 1, message: 'use letters, digits, spaces, "-" or "_"' },
      {
        path: 'instructions',
        line: 1,
        column: 1,
        message: 'required field is missing (expected text)',
      },
      {
        path: 'instruction',
        line: 2,
        column: 1,
        message: 'unknown key (did you mean "instructions"?)',
      },
      { path: 'maxSteps', line: 3, column: 1, message: 'expected a number, got text' },
      {
        path: 'model.model',
        line: 4,
        column: 1,
        message: 'required field is missing (expected text)',
      },
      { path: 'model.params.temperature', line: 7, column: 5, message: 'must be at most 2' },
      {
        path: 'examples[0][0].role',
        line: 9,
        column: 7,
        message: 'expected one of user, assistant',
      },
    ]);
    expect(error.message.split('\n')).toEqual([
      'invalid agent definition (7 problems):',
      '  agent.yaml:1:1 name: use letters, digits, spaces, "-" or "_"',
      '  agent.yaml:1:1 instructions: required field is missing (expected text)',
      '  agent.yaml:2:1 instruction: unknown key (did you mean "instructions"?)',
      '  agent.yaml:3:1 maxSteps: expected a number, got text',
      '  agent.yaml:4:1 model.model: required field is missing (expected text)',
      '  agent.yaml:7:5 model.params.temperature: must be at most 2',
      '  agent.yaml:9:7 examples[0][0].role: expected one of user, assistant',
    ]);
  });

  it('reports unknown keys in nested objects that zod itself would silently strip', () => {
    const text = `name: support-bot
instructions: Be brief.
model:
  provider: openai
  model: gpt-4.1-mini
  apiKey: sk-live-1234567890
  temperature: 0.2
plugins:
  - name: web
    verison: ^1.0.0
`;
    const error = definitionError(() => parseAgentYaml(text, { file: 'agent.yaml' }));
    expect(error.issues.map(({ path, line, column }) => [path, line, column])).toEqual([
      ['model.apiKey', 6, 3],
      ['model.temperature', 7, 3],
      ['plugins[0].verison', 10, 5],
    ]);
    expect(error.issues[0]!.message).toContain('put its name in "apiKeySecret"');
    expect(error.issues[1]!.message).toBe('unknown key (did you mean "params.temperature"?)');
    expect(error.issues[2]!.message).toBe('unknown key (did you mean "version"?)');
    // A pasted key must not end up in logs through the error message.
    expect(error.message).not.toContain('sk-live');
  });

  it('lists the known keys when no key is close', () => {
    const text = `${validYaml}colour: blue\n`;
    const error = definitionError(() => parseAgentYaml(text));
    expect(error.issues).toEqual([
      {
        path: 'colour',
        line: 8,
        column: 1,
        message: expect.stringMatching(
          /^unknown key \(known keys: name, description, instructions,/,
        ),
      },
    ]);
  });

  it('locates wrong types at the field and says what was found without echoing it', () => {
    const text = `name: support-bot
instructions: Be brief.
bio: I am a bot
model:
  provider: openai
  model: 4
memory:
  recallLimit: 2.5
`;
    const error = definitionError(() => parseAgentYaml(text, { file: 'a.yml' }));
    expect(error.issues).toEqual([
      { path: 'bio', line: 3, column: 1, message: 'expected a list, got text' },
      { path: 'model.model', line: 6, column: 3, message: 'expected text, got a whole number' },
      {
        path: 'memory.recallLimit',
        line: 8,
        column: 3,
        message: 'expected a whole number, got a fraction',
      },
    ]);
  });

  it('reports a missing model where the document starts', () => {
    const text = `\n\nname: support-bot\ninstructions: Be brief.\n`;
    const error = definitionError(() => parseAgentYaml(text, { file: 'agent.yaml' }));
    expect(error.message).toBe(
      'invalid agent definition: agent.yaml:3:1 model: required field is missing (expected an object)',
    );
  });

  it('gives the line of a YAML syntax error: an unclosed quote points where the string opens', () => {
    const text = `name: support-bot
instructions: "Be brief.
model:
  provider: openai
  model: gpt-4.1-mini
`;
    const error = definitionError(() => parseAgentYaml(text, { file: 'agent.yaml' }));
    expect(error.issues).toEqual([
      {
        path: '',
        line: 2,
        column: 15,
        message: 'YAML syntax error: the string opened here has no closing "',
      },
    ]);
    expect(error.message).toBe(
      'invalid agent definition: agent.yaml:2:15 YAML syntax error: the string opened here has no closing "',
    );
  });

  it('gives the line of a YAML indentation error and of a duplicate key', () => {
    const badIndent = `name: support-bot\ninstructions: x\nmodel: [openai\nmaxSteps: 3\n`;
    expect(definitionError(() => parseAgentYaml(badIndent)).issues).toEqual([
      { path: '', line: 4, column: 1, message: expect.stringMatching(/^YAML syntax error: /) },
    ]);
    const duplicate = `${validYaml}name: other\n`;
    expect(definitionError(() => parseAgentYaml(duplicate)).issues).toEqual([
      { path: '', line: 8, column: 1, message: 'YAML syntax error: duplicate key' },
    ]);
  });

  it('rejects an empty file and a document that is not a mapping', () => {
    expect(definitionError(() => parseAgentYaml('')).issues).toEqual([
      {
        path: '',
        line: 1,
        column: 1,
        message: 'the definition is empty: an agent needs at least name, instructions and model',
      },
    ]);
    expect(definitionError(() => parseAgentYaml('# agent\n- name: x\n')).issues).toEqual([
      {
        path: '',
        line: 2,
        column: 1,
        message: 'expected an object of agent fields (name, instructions, model, …), got a list',
      },
    ]);
  });

  it('refuses a second document in the file', () => {
    const error = definitionError(() => parseAgentYaml(`${validYaml}---\nname: other\n`));
    expect(error.issues).toEqual([
      {
        path: '',
        line: 8,
        column: 1,
        message: 'YAML syntax error: a file holds one agent: remove the extra "---" document',
      },
    ]);
  });

  it('accepts a byte order mark', () => {
    expect(parseAgentYaml(`\uFEFF${validYaml}`).name).toBe('support-bot');
  });
});

describe('parseAgentJson', () => {
  it('parses the same definition as the equivalent YAML', () => {
    expect(parseAgentJson(validJson)).toEqual(parseAgentYaml(validYaml));
  });

  it('locates schema problems by line and column', () => {
    const text = `{
  "name": "support-bot",
  "instrucions": "Be brief.",
  "model": {
    "provider": "gemini",
    "model": "x", "baseURL": "not a url"
  },
  "examples": [[{ "role": "user", "content": "hi" }, { "role": "assistant" }]]
}`;
    const error = definitionError(() => parseAgentJson(text, { file: 'agent.json' }));
    expect(error.message.split('\n')).toEqual([
      'invalid agent definition (5 problems):',
      '  agent.json:1:1 instructions: required field is missing (expected text)',
      '  agent.json:3:3 instrucions: unknown key (did you mean "instructions"?)',
      '  agent.json:5:5 model.provider: expected one of openai, openai-responses, anthropic, openrouter, openai-compatible, scripted',
      '  agent.json:6:19 model.baseURL: expected a URL such as https://api.example.com/v1',
      '  agent.json:8:54 examples[0][1].content: required field is missing (expected text)',
    ]);
  });

  it.each([
    [
      'a trailing comma',
      '{\n  "name": "x",\n  "maxSteps": 3,\n}\n',
      4,
      1,
      '',
      'trailing comma before "}" is not allowed in JSON',
    ],
    [
      'a missing comma (reported at the end of the value before it)',
      '{\n  "name": "x"\n  "maxSteps": 3\n}\n',
      2,
      14,
      'name',
      'expected "," or "}" after the value of "name"',
    ],
    [
      'a comment',
      '{\n  // the name\n  "name": "x"\n}\n',
      2,
      3,
      '',
      'comments are not allowed in JSON (use agent.yaml for comments)',
    ],
    [
      'an unterminated string',
      '{\n  "name": "x",\n  "instructions": "Be brief.\n}\n',
      3,
      19,
      'instructions',
      'the string opened here is not closed on its line (write a line break as \\n)',
    ],
    [
      'a single-quoted string',
      '{\n  "name": \'x\'\n}\n',
      2,
      11,
      'name',
      `unexpected "'x'" (strings need double quotes)`,
    ],
    [
      'the end of input',
      '{\n  "name": "x",\n',
      3,
      1,
      '',
      'unexpected end of input, expected a property name',
    ],
    [
      'text after the value',
      '{}\n{}\n',
      2,
      1,
      '',
      'unexpected content after the end of the JSON value',
    ],
  ])('gives the line of a JSON syntax error: %s', (_, text, line, column, path, message) => {
    const error = definitionError(() => parseAgentJson(text, { file: 'agent.json' }));
    expect(error.issues).toEqual([
      { path, line, column, message: `JSON syntax error: ${message}` },
    ]);
    const field = path ? `${path}: ` : '';
    expect(error.message).toBe(
      `invalid agent definition: agent.json:${line}:${column} ${field}JSON syntax error: ${message}`,
    );
  });

  it('reports duplicate keys, which JSON.parse would silently resolve', () => {
    const text = validJson.replace('"name": "support-bot",', '"name": "a",\n  "name": "b",');
    expect(definitionError(() => parseAgentJson(text)).issues).toEqual([
      { path: 'name', line: 3, column: 3, message: 'duplicate key' },
    ]);
  });

  it('keeps a "__proto__" key as data and reports it as unknown', () => {
    const text = validJson.replace('{', '{ "__proto__": { "maxSteps": 99 },');
    const error = definitionError(() => parseAgentJson(text));
    expect(error.issues).toEqual([
      { path: '__proto__', line: 1, column: 3, message: expect.stringMatching(/^unknown key/) },
    ]);
    expect(({} as Record<string, unknown>).maxSteps).toBeUndefined();
  });

  it('decodes escapes exactly as JSON.parse does', () => {
    const text = validJson.replace('Be brief.', 'Be \\"brief\\" \\u00e9\\t\\\\');
    expect(parseAgentJson(text).instructions).toBe(
      (JSON.parse(text) as { instructions: string }).instructions,
    );
  });
});

describe('loadAgentFile', () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'parley-agent-'));
    await writeFile(join(directory, 'agent.yaml'), validYaml);
    await writeFile(join(directory, 'agent.yml'), validYaml);
    await writeFile(join(directory, 'agent.json'), validJson);
    await writeFile(join(directory, 'agent.toml'), 'name = "x"\n');
    await writeFile(join(directory, 'broken.json'), '{\n  "name": "x",\n}\n');
  });
  afterAll(() => rm(directory, { recursive: true, force: true }));

  it.each(['agent.yaml', 'agent.yml', 'agent.json'])('loads %s by its extension', async (name) => {
    const agent = await loadAgentFile(join(directory, name));
    expect(agent).toEqual(parseAgentYaml(validYaml));
  });

  it('names the file in definition errors', async () => {
    const file = join(directory, 'broken.json');
    const error = await loadAgentFile(file).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AgentDefinitionError);
    expect((error as AgentDefinitionError).message).toBe(
      `invalid agent definition: ${file}:3:1 JSON syntax error: trailing comma before "}" is not allowed in JSON`,
    );
  });

  it('refuses other extensions with a clear error', async () => {
    const file = join(directory, 'agent.toml');
    const error = await loadAgentFile(file).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AgentFileError);
    expect(error).toMatchObject({
      code: 'agent.unsupported_file_type',
      file,
      message: `${file}: unsupported agent file type ".toml": use .yaml, .yml or .json`,
    });
  });

  it('says when the file does not exist', async () => {
    const file = join(directory, 'missing.yaml');
    const error = await loadAgentFile(file).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AgentFileError);
    expect(error).toMatchObject({
      code: 'agent.file_not_found',
      message: `${file}: no such file (create one with \`parley create\`)`,
    });
  });
});

describe('stringifyAgentYaml', () => {
  it('writes only what differs from the defaults, model before instructions', () => {
    const yaml = stringifyAgentYaml(parseAgentYaml(validYaml));
    expect(yaml).toBe(`name: support-bot
model:
  provider: openai
  model: gpt-4.1-mini
instructions: |
  You answer questions about Parley.
  Be brief.
`);
  });

  it('round-trips a definition using every field', () => {
    const full: AgentDefinition = AgentDefinitionSchema.parse({
      name: 'Full Agent_1',
      description: 'Uses every field.',
      instructions: '  Leading spaces.\nyes: no\n\n# not a comment\n- not a list\ntrailing   ',
      bio: ['yes', '123', 'null', '- dash', '#hash', 'a: b', "it's", '"quoted"', ''],
      style: ['short', 'line one\nline two'],
      topics: ['parley', 'true'],
      examples: [
        [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: 'hello: there' },
        ],
      ],
      model: {
        provider: 'openai-compatible',
        model: 'llama3.2',
        baseURL: 'http://127.0.0.1:11434/v1',
        apiKeySecret: 'OLLAMA_KEY',
        contextWindow: 8192,
        params: { temperature: 0.2, maxOutputTokens: 512, reasoning: { effort: 'low' } },
      },
      fallbackModels: [{ provider: 'scripted', model: 'echo' }],
      plugins: [
        { name: 'web' },
        { name: 'weather', version: '^1.2.0', config: { units: 'metric' } },
      ],
      tools: [],
      memory: { enabled: false, recallLimit: 0, autoExtract: false, scopes: ['user'] },
      maxSteps: 3,
      toolTimeoutMs: 1000,
    });
    const yaml = stringifyAgentYaml(full);
    expect(parseAgentYaml(yaml)).toEqual(full);
    // An empty allow-list means "no tools"; dropping it would mean "all tools".
    expect(yaml).toContain('tools: []');
    expect(yaml).not.toContain('version: "*"');
  });

  it('refuses an invalid definition instead of writing a file that will not load', () => {
    const invalid = {
      name: 'x',
      instructions: '',
      model: { provider: 'openai' as const, model: 'm' },
    };
    expect(definitionError(() => stringifyAgentYaml(invalid)).issues).toEqual([
      { path: 'instructions', message: 'must not be empty' },
    ]);
  });
});

describe('didYouMean', () => {
  const known = ['name', 'instructions', 'model', 'maxSteps', 'fallbackModels', 'toolTimeoutMs'];
  it.each([
    ['instruction', 'instructions'],
    ['max_steps', 'maxSteps'],
    ['MAXSTEPS', 'maxSteps'],
    ['modle', 'model'],
    ['nmae', 'name'],
    ['fallback', 'fallbackModels'],
    ['toolTimeout', 'toolTimeoutMs'],
  ])('%s → %s', (typo, expected) => {
    expect(didYouMean(typo, known)).toBe(expected);
  });

  it('suggests nothing for an unrelated key', () => {
    expect(didYouMean('colour', known)).toBeUndefined();
    expect(didYouMean('mod', known)).toBeUndefined();
  });
});
