import { readFileSync } from 'node:fs';
import { AgentDefinitionSchema } from '@parley/core';
import { describe, expect, it } from 'vitest';
import { ElizaCharacterError } from '../src/agent-errors.ts';
import { type ElizaImportResult, importElizaCharacter } from '../src/eliza-import.ts';
import { parseAgentYaml, stringifyAgentYaml } from '../src/load.ts';

function fixture(name: string): Record<string, unknown> {
  const url = new URL(`./fixtures/eliza/${name}.character.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as Record<string, unknown>;
}

/** Every string in the fixture that is a fake secret (they all contain FIXTURE). */
function fixtureSecretValues(json: unknown): string[] {
  const found: string[] = [];
  const visit = (node: unknown) => {
    if (typeof node === 'string' && node.includes('FIXTURE')) found.push(node);
    else if (node && typeof node === 'object') Object.values(node).forEach(visit);
  };
  visit(json);
  return found;
}

function importError(input: unknown): ElizaCharacterError {
  try {
    importElizaCharacter(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ElizaCharacterError);
    return error as ElizaCharacterError;
  }
  throw new Error('expected an ElizaCharacterError, but the import succeeded');
}

const fixtures = ['minimal', 'classic-0x', 'v1'];

describe.each(fixtures)('importing the %s fixture', (name) => {
  const json = fixture(name);
  const result = importElizaCharacter(json);

  it('produces a definition that passes AgentDefinitionSchema unchanged', () => {
    expect(AgentDefinitionSchema.parse(result.agent)).toEqual(result.agent);
  });

  it('carries no secret value anywhere in the result', () => {
    const serialized = JSON.stringify(result);
    const secrets = fixtureSecretValues(json);
    if (name !== 'minimal') expect(secrets.length).toBeGreaterThan(0);
    for (const secret of secrets) expect(serialized).not.toContain(secret);
    expect(serialized).not.toContain('FIXTURE');
  });

  it('writes an agent.yaml that loads back to the same agent', () => {
    expect(parseAgentYaml(stringifyAgentYaml(result.agent))).toEqual(result.agent);
  });
});

describe('the minimal fixture (name and bio string only)', () => {
  const result = importElizaCharacter(fixture('minimal'));

  it('builds default instructions from the name and keeps the bio', () => {
    expect(result.agent.name).toBe('Pip');
    expect(result.agent.instructions).toBe(
      'You are Pip. Stay in character: answer as Pip would, in your own voice, drawing on your background and style.',
    );
    expect(result.agent.bio).toEqual([
      'A cheerful gardening helper who knows which vegetables grow well together.',
    ]);
    expect(result.agent.description).toBe(result.agent.bio[0]);
  });

  it('falls back to the offline scripted model, with a warning, and asks for no secrets', () => {
    expect(result.agent.model).toEqual({ provider: 'scripted', model: 'echo', params: {} });
    expect(result.secretsToSet).toEqual([]);
    expect(result.warnings).toEqual([
      expect.stringMatching(/^the character names no model provider: .*scripted model \(echo\)/),
    ]);
  });
});

describe('the classic 0.x fixture', () => {
  const result: ElizaImportResult = importElizaCharacter(fixture('classic-0x'));
  const { agent } = result;

  it('builds instructions from system (placeholders filled) and a personality section', () => {
    expect(agent.instructions).toBe(
      [
        'Roleplay as Marlowe, a hard-boiled private detective from 1940s Los Angeles. Help people reason through puzzles, riddles and everyday mysteries. Never break character and never invent facts about real people.',
        'Personality: laconic, observant, wry, stubborn.',
      ].join('\n\n'),
    );
  });

  it('maps bio and lore to bio lines, style.all + style.chat to style, and topics', () => {
    expect(agent.bio).toEqual([
      'Private investigator with a one-room office above a pawn shop on Cahuenga Boulevard.',
      'Has solved more cases with patience than with his fists.',
      'Once tracked a missing heiress across three states with nothing but a matchbook.',
      'Keeps a bottle of rye in the desk drawer and never drinks on a case.',
    ]);
    expect(agent.style).toEqual([
      'speak in short, clipped sentences',
      'use period slang sparingly',
      'ask one sharp question at a time',
    ]);
    expect(agent.topics).toEqual([
      'mysteries',
      'logic puzzles',
      '1940s Los Angeles',
      'detective fiction',
    ]);
  });

  it('maps messageExamples: the character speaks as assistant, {{user1}} and {{user2}} as user', () => {
    expect(agent.examples.map((dialogue) => dialogue.map((turn) => turn.role))).toEqual([
      ['user', 'assistant'],
      ['user', 'assistant'],
      ['user', 'user', 'assistant'],
    ]);
    expect(agent.examples[1]![1]).toEqual({
      role: 'assistant',
      content: "That's a job for the DMV and a warrant, pal. I can tell you how to file a report.",
    });
  });

  it('uses the anthropic model named in settings.model, keyed by ANTHROPIC_API_KEY', () => {
    expect(agent.model).toEqual({
      provider: 'anthropic',
      model: 'claude-3-5-sonnet-20241022',
      apiKeySecret: 'ANTHROPIC_API_KEY',
      params: {},
    });
  });

  it('lists both secrets with reasons, the model key first', () => {
    expect(result.secretsToSet.map((secret) => secret.name)).toEqual([
      'ANTHROPIC_API_KEY',
      'DISCORD_API_TOKEN',
    ]);
    expect(result.secretsToSet[0]!.reason).toMatch(/^API key for the anthropic model/);
    expect(result.secretsToSet[1]!.reason).toMatch(
      /^the discord bot's token \(channels\[0\]\.tokenSecret\)/,
    );
    for (const secret of result.secretsToSet) {
      expect(secret.reason).toContain(`settings.secrets.${secret.name}, value not imported`);
    }
  });

  it('warns about what has no Parley equivalent', () => {
    expect(result.warnings).toEqual([
      'ElizaOS actions in messageExamples (NONE) were not imported; the example texts were',
      expect.stringMatching(/^ElizaOS plugin "@elizaos\/plugin-node" is not a Parley plugin/),
      expect.stringMatching(
        /^ElizaOS plugin "@elizaos-plugins\/plugin-image-generation" is not a Parley plugin/,
      ),
      'postExamples (2) were not imported: they are for social media posts, which Parley agents do not write',
      'style.post was not imported: it styles social media posts',
      'settings.voice was not imported: Parley agents have no voice output',
      'field "people" was not imported: Parley has no equivalent',
      "ElizaOS clients became channels: discord (gateway); set their secrets and see docs/channels.md for the bot's settings",
    ]);
    expect(agent.plugins).toEqual([]);
    expect(agent.channels).toEqual([
      {
        platform: 'discord',
        tokenSecret: 'DISCORD_API_TOKEN',
        mode: 'gateway',
        mentionsOnly: true,
      },
    ]);
  });
});

describe('the 1.x fixture', () => {
  const result = importElizaCharacter(fixture('v1'));
  const { agent } = result;

  it('chooses openai from @elizaos/plugin-openai and the model from settings.model', () => {
    expect(agent.model).toEqual({
      provider: 'openai',
      model: 'gpt-4o-mini',
      apiKeySecret: 'OPENAI_API_KEY',
      params: {},
    });
  });

  it('lists settings.secrets and key-like settings, not other settings', () => {
    expect(result.secretsToSet.map((secret) => secret.name)).toEqual([
      'OPENAI_API_KEY',
      'TAVILY_API_KEY',
    ]);
    expect(result.secretsToSet[1]!.reason).toContain('found in settings.TAVILY_API_KEY');
    expect(result.warnings).toContain('settings not imported (no Parley equivalent): avatar');
  });

  it('puts adjectives into the instructions and knowledge aside, for a knowledge base', () => {
    expect(agent.instructions).toBe(
      [
        'You are Ada, a patient programming tutor. Explain one idea at a time, show small runnable examples, and check the learner understood before moving on.',
        'Personality: patient, precise, encouraging.',
      ].join('\n\n'),
    );
    expect(result.knowledge).toEqual({
      texts: [
        'Node.js 24 runs TypeScript files directly by stripping the types; enums and namespaces need a build step.',
      ],
      sources: [
        { kind: 'file', path: 'docs/teaching-notes.md', index: 1 },
        { kind: 'directory', path: 'knowledge/tutorials', index: 2 },
      ],
    });
  });

  it('maps examples written with name: {{name1}} is the user, Ada and {{agentName}} the assistant', () => {
    expect(agent.examples).toEqual([
      [
        { role: 'user', content: 'Why does [10, 9, 1].sort() give me [1, 10, 9]?' },
        {
          role: 'assistant',
          content:
            'Good catch! sort() compares items as strings by default. Pass a comparator: (a, b) => a - b.',
        },
      ],
      [
        { role: 'user', content: "What's a closure, in one sentence?" },
        {
          role: 'assistant',
          content: 'A function that remembers the variables around where it was created.',
        },
      ],
    ]);
  });

  it('warns about each ElizaOS plugin with a hint and the username', () => {
    expect(result.warnings).toEqual([
      'ElizaOS actions in messageExamples (REPLY) were not imported; the example texts were',
      'ElizaOS plugin "@elizaos/plugin-sql" is not a Parley plugin and was not imported: Parley keeps conversations and memory in its own store',
      'ElizaOS plugin "@elizaos/plugin-openai" is not a Parley plugin and was not imported: Parley calls the model itself (model.provider: openai)',
      `ElizaOS plugin "@elizaos/plugin-bootstrap" is not a Parley plugin and was not imported: Parley's run loop already does what it provides (message handling, actions, evaluators)`,
      'username "ada_tutor" was not imported: Parley agents have no platform handle',
      'settings not imported (no Parley equivalent): avatar',
    ]);
  });
});

describe('model providers', () => {
  it.each([
    [{ modelProvider: 'openai' }, { provider: 'openai', model: 'gpt-4.1-mini' }, 'OPENAI_API_KEY'],
    [{ modelProvider: 'OpenAI' }, { provider: 'openai', model: 'gpt-4.1-mini' }, 'OPENAI_API_KEY'],
    [
      { modelProvider: 'anthropic' },
      { provider: 'anthropic', model: 'claude-sonnet-4-5' },
      'ANTHROPIC_API_KEY',
    ],
    [
      { settings: { modelProvider: 'openrouter', model: 'meta-llama/llama-3.3-70b-instruct' } },
      { provider: 'openrouter', model: 'meta-llama/llama-3.3-70b-instruct' },
      'OPENROUTER_API_KEY',
    ],
    [
      { plugins: ['@elizaos/plugin-anthropic'] },
      { provider: 'anthropic', model: 'claude-sonnet-4-5' },
      'ANTHROPIC_API_KEY',
    ],
  ])('%j → %j, asking for %s even when the file has no key', (fields, model, secret) => {
    const result = importElizaCharacter({ name: 'Bot', ...fields });
    expect(result.agent.model).toEqual({ ...model, apiKeySecret: secret, params: {} });
    expect(result.secretsToSet).toEqual([
      { name: secret, reason: expect.stringContaining('the character file has none') },
    ]);
  });

  it('maps ollama to the OpenAI-compatible endpoint on localhost, with no key', () => {
    for (const fields of [{ modelProvider: 'ollama' }, { settings: { model: 'ollama' } }]) {
      const result = importElizaCharacter({ name: 'Bot', ...fields });
      expect(result.agent.model).toEqual({
        provider: 'openai-compatible',
        model: 'llama3.2',
        baseURL: 'http://127.0.0.1:11434/v1',
        params: {},
      });
      expect(result.secretsToSet).toEqual([]);
    }
  });

  it.each(['google', 'groq', 'constructor'])(
    'falls back to the scripted echo model for the unknown provider %s, with a warning',
    (provider) => {
      const result = importElizaCharacter({ name: 'Bot', modelProvider: provider });
      expect(result.agent.model).toEqual({ provider: 'scripted', model: 'echo', params: {} });
      expect(result.warnings[0]).toMatch(
        new RegExp(`^model provider "${provider}" has no Parley equivalent: .*scripted model`),
      );
    },
  );

  it('keeps valid modelConfig parameters and warns about invalid ones', () => {
    const result = importElizaCharacter({
      name: 'Bot',
      modelProvider: 'openai',
      settings: { modelConfig: { temperature: 0.4, maxOutputTokens: -3 } },
    });
    expect(result.agent.model.params).toEqual({ temperature: 0.4 });
    expect(result.warnings).toContain(
      'settings.modelConfig.maxOutputTokens was not imported: expected a positive whole number',
    );
  });
});

describe('model settings', () => {
  const notImportedSettings = (warnings: string[]) =>
    warnings.filter((warning) => warning.startsWith('settings not imported'));

  it('maps 1.x settings: temperature, maxTokens (text too), the large model and the endpoint', () => {
    const result = importElizaCharacter({
      name: 'Bot',
      modelProvider: 'openai',
      settings: {
        temperature: '0.2',
        maxTokens: 4096,
        OPENAI_LARGE_MODEL: 'gpt-4o',
        OPENAI_SMALL_MODEL: 'gpt-4o-mini',
        OPENAI_BASE_URL: 'https://llm-proxy.example/v1/',
      },
    });
    expect(result.agent.model).toEqual({
      provider: 'openai',
      model: 'gpt-4o',
      baseURL: 'https://llm-proxy.example/v1',
      apiKeySecret: 'OPENAI_API_KEY',
      params: { temperature: 0.2, maxOutputTokens: 4096 },
    });
    expect(notImportedSettings(result.warnings)).toEqual([]);
    expect(result.warnings).toContain(
      'settings.OPENAI_SMALL_MODEL (gpt-4o-mini) was not imported: a Parley agent answers with one model, model.model (gpt-4o)',
    );
  });

  it('maps 0.x modelConfig, names each parameter Parley lacks, and keeps settings.model first', () => {
    const result = importElizaCharacter({
      name: 'Bot',
      modelProvider: 'anthropic',
      settings: {
        model: 'claude-opus-4-1',
        LARGE_ANTHROPIC_MODEL: 'claude-sonnet-4-5',
        topP: 0.9,
        stop: ['\n\n'],
        modelConfig: {
          temperature: 0.4,
          max_response_length: 800,
          frequency_penalty: 0.5,
          presence_penalty: 0.1,
          maxInputTokens: 32000,
        },
      },
    });
    expect(result.agent.model).toMatchObject({
      provider: 'anthropic',
      model: 'claude-opus-4-1',
      contextWindow: 32000,
      params: { temperature: 0.4, maxOutputTokens: 800 },
    });
    expect(notImportedSettings(result.warnings)).toEqual([]);
    expect(result.warnings).toContain(
      "settings.modelConfig.frequency_penalty, settings.modelConfig.presence_penalty, settings.topP, settings.stop were not imported: Parley's model parameters are temperature, maxOutputTokens and reasoning (model.params) and the context window (model.contextWindow)",
    );
    expect(result.warnings).toContain(
      'settings.LARGE_ANTHROPIC_MODEL (claude-sonnet-4-5) was not imported: a Parley agent answers with one model, model.model (claude-opus-4-1)',
    );
  });

  it('maps Ollama settings: its model and its native endpoint as the OpenAI-compatible /v1', () => {
    const result = importElizaCharacter({
      name: 'Bot',
      modelProvider: 'ollama',
      settings: { OLLAMA_MODEL: 'qwen2.5', OLLAMA_API_ENDPOINT: 'http://gpu-box:11434/api' },
    });
    expect(result.agent.model).toEqual({
      provider: 'openai-compatible',
      model: 'qwen2.5',
      baseURL: 'http://gpu-box:11434/v1',
      params: {},
    });
  });

  it('keeps the parameters for an unknown provider, and says why it drops a bad or a second value', () => {
    const result = importElizaCharacter({
      name: 'Bot',
      modelProvider: 'groq',
      settings: {
        temperature: 0.3,
        maxTokens: 'lots',
        OPENAI_BASE_URL: 'file:///etc/passwd',
        modelConfig: { temperature: 0.9 },
      },
    });
    expect(result.agent.model).toEqual({
      provider: 'scripted',
      model: 'echo',
      params: { temperature: 0.9 },
    });
    expect(result.warnings).toContain(
      'settings.temperature (0.3) was not imported: settings.modelConfig.temperature (0.9) sets the same thing',
    );
    expect(result.warnings).toContain(
      'settings.maxTokens was not imported: expected a positive whole number',
    );
    // Another provider's settings are not this agent's: they stay on the list.
    expect(notImportedSettings(result.warnings)).toEqual([
      'settings not imported (no Parley equivalent): OPENAI_BASE_URL',
    ]);
  });

  it('refuses an endpoint that is not http(s)', () => {
    const result = importElizaCharacter({
      name: 'Bot',
      modelProvider: 'openai',
      settings: { OPENAI_BASE_URL: 'file:///etc/passwd' },
    });
    expect(result.agent.model.baseURL).toBeUndefined();
    expect(result.warnings).toContain(
      'settings.OPENAI_BASE_URL was not imported: expected an http(s) URL',
    );
  });
});

describe('secrets', () => {
  it('finds top-level secrets and key-like settings at any depth, never copying values', () => {
    const character = {
      name: 'Bot',
      secrets: { GITHUB_TOKEN: 'ghp_value_one_123' },
      settings: {
        discord: { botToken: 'discord_value_two_456', channel: 'general' },
        WALLET_PRIVATE_KEY: 'wallet_value_three_789',
        SOLANA_SEED: 'seed_value_four_012',
        language: 'en',
      },
    };
    const result = importElizaCharacter(character);
    expect(result.secretsToSet.map((secret) => secret.name)).toEqual([
      'GITHUB_TOKEN',
      'DISCORD_BOT_TOKEN',
      'WALLET_PRIVATE_KEY',
      'SOLANA_SEED',
    ]);
    expect(result.secretsToSet[1]!.reason).toContain('found in settings.discord.botToken');
    const serialized = JSON.stringify(result);
    for (const value of [
      'ghp_value_one',
      'discord_value_two',
      'wallet_value_three',
      'seed_value_four',
    ]) {
      expect(serialized).not.toContain(value);
    }
  });

  it('lists a secret once when it appears in two places', () => {
    const result = importElizaCharacter({
      name: 'Bot',
      modelProvider: 'openai',
      secrets: { OPENAI_API_KEY: 'sk-one-value-aaaa' },
      settings: { secrets: { OPENAI_API_KEY: 'sk-one-value-aaaa' } },
    });
    expect(result.secretsToSet).toEqual([
      {
        name: 'OPENAI_API_KEY',
        reason:
          'API key for the openai model (model.apiKeySecret); found in settings.secrets.OPENAI_API_KEY and secrets.OPENAI_API_KEY, value not imported',
      },
    ]);
  });

  it('removes a secret value pasted into text fields and says where', () => {
    const key = 'sk-pasted-into-text-0000';
    const result = importElizaCharacter({
      name: 'Bot',
      system: `Use the key ${key} when calling the API.`,
      knowledge: [`The admin key is ${key}.`],
      settings: { secrets: { OPENAI_API_KEY: key } },
    });
    expect(JSON.stringify(result)).not.toContain(key);
    expect(result.agent.instructions).toBe('Use the key [secret removed] when calling the API.');
    expect(result.knowledge.texts).toEqual(['The admin key is [secret removed].']);
    expect(result.warnings).toContain(
      'a secret value appeared in instructions and was replaced with "[secret removed]"',
    );
    expect(result.warnings).toContain(
      'a secret value appeared in the knowledge and was replaced with "[secret removed]"',
    );
  });
});

describe('key-shaped text the character did not declare', () => {
  // Built at run time, so no key-shaped literal sits in the repository.
  const fake = {
    openai: `sk-proj-${'Fk3'.repeat(16)}`,
    anthropic: `sk-ant-api03-${'Qz9'.repeat(12)}`,
    slack: `xoxb-${'1234567890'}-${'Ab1'.repeat(8)}`,
    telegram: `${'123456789'}:AA${'Hx_'.repeat(11)}`,
    discord: `MTA${'x'.repeat(21)}.Gh${'y'.repeat(4)}.${'z'.repeat(38)}`,
    github: `ghp_${'R7t'.repeat(12)}`,
    aws: `AKIA${'Q7WX'.repeat(4)}`,
    wallet: `0x${'ab12'.repeat(16)}`,
  };
  const character = {
    name: 'Leaky',
    modelProvider: 'openai',
    system: `Call the API with ${fake.openai}.`,
    bio: ['Friendly.', `Backup key: ${fake.anthropic}`],
    lore: [`Posts to Slack with ${fake.slack}`],
    knowledge: [`The Telegram bot is ${fake.telegram}`],
    topics: [`deploys with ${fake.github}`],
    style: { all: [`never mention ${fake.aws}`], chat: [`sign with ${fake.wallet}`] },
    messageExamples: [
      [
        { name: '{{name1}}', content: { text: 'What is the Discord token?' } },
        { name: 'Leaky', content: { text: `It is ${fake.discord}` } },
      ],
    ],
    postExamples: [`gm, my key is ${fake.openai}`],
    settings: { secrets: { OPENAI_API_KEY: 'declared-FIXTURE-value-1' } },
  };
  const result = importElizaCharacter(character);

  it('removes every one from the agent and from the warnings', () => {
    const serialized = JSON.stringify(result);
    for (const value of Object.values(fake)) expect(serialized).not.toContain(value);
    expect(result.agent.instructions).toContain('Call the API with [secret removed].');
    expect(result.agent.bio).toContain('Backup key: [secret removed]');
    expect(result.agent.examples[0]![1]!.content).toBe('It is [secret removed]');
    expect(AgentDefinitionSchema.parse(result.agent)).toEqual(result.agent);
  });

  it('names each field and the kind of key, asking for the key to be revoked', () => {
    const about = (path: string, kind: string) =>
      `${path} holds what looks like ${kind}, which is not among the character's secrets: it was not imported (replaced with "[secret removed]"); if it is a real key, revoke it, since the character file exposed it`;
    for (const warning of [
      about('system', 'an OpenAI-style API key'),
      about('bio[1]', 'an Anthropic API key'),
      about('lore[0]', 'a Slack token'),
      about('knowledge[0]', 'a Telegram bot token'),
      about('topics[0]', 'a GitHub token'),
      about('style.all[0]', 'an AWS access key id'),
      about('style.chat[0]', 'a wallet private key (0x and 64 hex digits)'),
      about('messageExamples[0][1].content.text', 'a Discord bot token'),
      about('postExamples[0]', 'an OpenAI-style API key'),
    ])
      expect(result.warnings).toContain(warning);
    // The declared secret is listed to set, as always, and was not reported as undeclared.
    expect(result.secretsToSet.map((secret) => secret.name)).toEqual(['OPENAI_API_KEY']);
    expect(result.warnings.filter((w) => w.includes('not among'))).toHaveLength(9);
  });

  it('leaves text that only resembles a key alone, and reports a declared key once', () => {
    const declared = `sk-${'D3c'.repeat(10)}`;
    const plain = importElizaCharacter({
      name: 'Plain',
      bio: ['Uses sk-learn and task-1234567890123456789012 daily; AKIA is a town.'],
      system: `Key: ${declared}`,
      secrets: { OPENAI_API_KEY: declared },
    });
    expect(plain.agent.bio).toEqual([
      'Uses sk-learn and task-1234567890123456789012 daily; AKIA is a town.',
    ]);
    expect(plain.warnings.filter((w) => w.includes('[secret removed]'))).toEqual([
      'a secret value appeared in instructions and was replaced with "[secret removed]"',
    ]);
  });
});

describe('names, examples and unknown fields', () => {
  it('turns a name Parley cannot use into one it can, with a warning', () => {
    const result = importElizaCharacter({ name: 'Élise ✨ (beta)' });
    expect(result.agent.name).toBe('Elise beta');
    expect(result.warnings).toContain(
      'name "Élise ✨ (beta)" became "Elise beta": Parley agent names use letters, digits, spaces, "-" and "_"',
    );
  });

  it('uses the username when the name has no usable characters, and fails when neither has', () => {
    expect(importElizaCharacter({ name: '✨✨', username: 'sparkle_bot' }).agent.name).toBe(
      'sparkle_bot',
    );
    expect(importError({ name: '✨✨' }).issues).toEqual([
      { path: 'name', message: 'needs letters or digits to make a Parley agent name' },
    ]);
  });

  it('matches speakers case-insensitively and by username or {{char}}; drops textless messages', () => {
    const result = importElizaCharacter({
      name: 'Bot',
      username: 'the_bot',
      messageExamples: [
        [
          { user: 'alice', content: { text: 'hi {{char}}' } },
          { user: 'BOT', content: { text: 'hello' } },
          { user: 'the_bot', content: { text: '', action: 'WAVE' } },
          { user: '{{char}}', content: { text: 'anything else?' } },
        ],
        [{ user: 'Bot', content: { text: '  ', action: 'IGNORE' } }],
      ],
    });
    expect(result.agent.examples).toEqual([
      [
        { role: 'user', content: 'hi Bot' },
        { role: 'assistant', content: 'hello' },
        { role: 'assistant', content: 'anything else?' },
      ],
    ]);
    expect(result.warnings).toContain(
      'ElizaOS actions in messageExamples (WAVE, IGNORE) were not imported; the example texts were',
    );
    expect(result.warnings).toContain(
      '2 example message(s) without text were left out of the examples',
    );
  });

  it('warns about unknown fields and templates by name', () => {
    const result = importElizaCharacter({
      name: 'Bot',
      templates: { messageHandlerTemplate: '...' },
      extends: ['base'],
    });
    expect(result.warnings).toEqual(
      expect.arrayContaining([
        'field "templates" was not imported: ElizaOS prompt templates do not apply to the Parley run loop',
        'field "extends" was not imported: Parley has no equivalent',
      ]),
    );
  });

  it('keeps instructions within the schema limit', () => {
    const result = importElizaCharacter({ name: 'Bot', system: 'x'.repeat(60_000) });
    expect(result.agent.instructions).toHaveLength(50_000);
    expect(result.warnings).toContain(
      'the instructions were cut to 50000 characters: shorten the system prompt',
    );
  });
});

describe('unusable input', () => {
  it.each([
    [null, 'null'],
    [[], 'a list'],
    ['{"name":"Bot"}', 'text (parse the file with JSON.parse first)'],
    [42, 'number'],
  ])('refuses %j: it is not a character object', (input, got) => {
    const error = importError(input);
    expect(error.code).toBe('agent.invalid_eliza_character');
    expect(error.issues).toEqual([
      { path: '', message: `expected a character object (the parsed character.json), got ${got}` },
    ]);
  });

  it('lists every bad field with its path', () => {
    const error = importError({
      bio: 5,
      topics: ['ok', 7],
      messageExamples: [[{ user: 'x', content: { text: 'hi' } }, { user: 'Bot' }]],
      settings: { secrets: 'not an object' },
    });
    expect(error.issues).toEqual([
      { path: 'name', message: 'required field is missing (expected text)' },
      { path: 'bio', message: 'expected text or a list of text' },
      {
        path: 'messageExamples[0][1].content',
        message: 'required field is missing (expected an object)',
      },
      { path: 'topics[1]', message: 'expected text, got a whole number' },
      { path: 'settings.secrets', message: 'expected an object, got text' },
    ]);
    expect(error.message).toMatch(/^invalid ElizaOS character \(5 problems\):\n {2}name: required/);
  });
});
