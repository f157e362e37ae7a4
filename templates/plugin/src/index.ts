import { definePlugin, defineTool } from '@parley/core';
import { z } from 'zod';

/**
 * A tool the model may call. The zod schema is what the model sees (as JSON Schema) and what
 * its arguments are checked against before `run`; describe each field. The example is the
 * call `parley plugin test` makes: keep it one that succeeds.
 */
const countWords = defineTool({
  name: 'count_words',
  description: 'Counts the words, characters and lines of a text.',
  input: z
    .object({ text: z.string().max(100_000).describe('The text to count') })
    .meta({ examples: [{ text: 'Hello from a Parley plugin' }] }),
  run: ({ text }) => ({
    words: text.split(/\s+/).filter(Boolean).length,
    characters: [...text].length,
    lines: text === '' ? 0 : text.split(/\r?\n/).length,
  }),
});

/**
 * Plugin contract v1 (docs/plugins/contract.md in the Parley repository). Declare every host
 * the tools fetch through `ctx.fetch` and every secret they read through `ctx.secrets.get`:
 * anything else is refused, and `parley plugin test` fails.
 */
export default definePlugin({
  name: '{{packageName}}',
  version: '0.1.0',
  contract: 1,
  // Bounded, and the same range as peerDependencies["@parley/core"] in package.json.
  core: '^{{coreVersion}}',
  description: 'Counts words.',
  permissions: { network: [], secrets: [] },
  tools: [countWords],
});
