import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPluginHost, type ToolMemory, validateToolArgs } from '@parley/core';
import plugin from '../src/index.ts';

const noMemory: ToolMemory = {
  remember: () => Promise.reject(new Error('this plugin uses no memory')),
  recall: async () => [],
};

test('a Parley host accepts the plugin and count_words counts', async () => {
  // The same checks a Parley server makes when it loads the plugin.
  const host = createPluginHost();
  host.register(plugin);
  const tool = plugin.tools?.find((t) => t.name === 'count_words');
  assert.ok(tool);

  const args = validateToolArgs(tool, { text: 'one two  three\nfour' });
  assert.ok(args.ok);
  const { context } = host.createToolContext(plugin, {
    toolCallId: 'call-1',
    agentId: 'agent-1',
    conversationId: 'conversation-1',
    signal: AbortSignal.timeout(5_000),
    memory: noMemory,
  });
  assert.deepEqual(await tool.run(args.value, context), { words: 4, characters: 19, lines: 2 });
});

test('arguments the model gets wrong are refused before the tool runs', () => {
  const tool = plugin.tools?.[0];
  assert.ok(tool);
  const args = validateToolArgs(tool, { words: 'not the field' });
  assert.equal(args.ok, false);
});
