// Records real Parley streams from the scripted provider for the dashboard's component tests:
//   node packages/dashboard/scripts/capture-streams.ts
// It starts a test server (PGlite), runs the onboarding demo (reasoning, a calculator call,
// streamed text), the same with an approval, and a run stopped mid-stream, and writes their
// events, and the demo conversation's stored messages and runs (two turns), to test/fixtures/.
import { writeFile } from 'node:fs/promises';
import { createParleyClient } from '@parley/client';
import { startTestServer } from '@parley/server/testing';
import { DEMO_SCRIPT } from '../src/onboarding/templates.ts';

const out = (name: string) => new URL(`../test/fixtures/${name}`, import.meta.url);
const plugins = [{ name: '@parley/plugin-basics', version: '^0.1.0' }];
const agent = (name: string, script: unknown, extra: Record<string, unknown> = {}) => ({
  name,
  instructions: 'You are the demo.',
  model: { provider: 'scripted', model: 'demo', script },
  plugins,
  ...extra,
});

const server = await startTestServer();
try {
  const parley = createParleyClient({ baseUrl: server.url, token: server.token });
  const ws = server.workspaceId;
  await parley.agents.create(ws, { definition: agent('demo', DEMO_SCRIPT) });
  await parley.agents.create(ws, {
    definition: agent('careful', DEMO_SCRIPT, { requireApproval: ['calculator'] }),
  });
  await parley.agents.create(ws, {
    definition: agent('talker', [
      [
        { type: 'text', text: 'Counting slowly: one,' },
        { type: 'delay', ms: 100 },
        { type: 'text', text: ' two,' },
        { type: 'hang' },
      ],
    ]),
  });

  const demo = await parley.runs.stream(ws, 'demo', { input: 'What is 6 * 7?', version: 'draft' });
  await demo.finished();
  const started = demo.events.find((event) => event.type === 'run.start');
  const conversationId = started?.type === 'run.start' ? started.conversationId : undefined;
  if (!conversationId) throw new Error('the demo run started no conversation');
  const second = await parley.runs.stream(ws, 'demo', {
    input: 'And again?',
    version: 'draft',
    conversationId,
  });
  await second.finished();

  const careful = await parley.runs.stream(ws, 'careful', { input: 'What is 6 * 7?' });
  for await (const event of careful)
    if (event.type === 'tool.approval_requested')
      await careful.decide(event.toolCallId, 'approved');

  const talker = await parley.runs.stream(ws, 'talker', { input: 'Count for me' });
  for await (const event of talker)
    if (event.type === 'text.delta' && event.delta.includes('two')) await talker.cancel();

  const conversation = await parley.conversations.get(ws, conversationId);
  const runs = await parley.runs.list(ws, { conversationId });
  const messages = await parley.conversations.messages(ws, conversationId);

  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  await writeFile(out('scripted-demo.json'), json(demo.events));
  await writeFile(out('scripted-approval.json'), json(careful.events));
  await writeFile(out('scripted-cancelled.json'), json(talker.events));
  await writeFile(out('scripted-history.json'), json({ conversation, runs, messages }));
  console.log(
    'wrote test/fixtures: scripted-demo, scripted-approval, scripted-cancelled, scripted-history',
  );
} finally {
  await server.close();
}
