import type { ContentPart, LanguageModel, ModelRequest } from '@parley/providers';
import { createScriptedModel } from '@parley/providers';
import { describe, expect, it } from 'vitest';
import {
  applyReplacements,
  createInMemoryRunStore,
  createPluginHost,
  defineAgent,
  definePlugin,
  type GuardSignal,
  type InboundGuard,
  runAgent,
} from '../src/index.ts';

/** A guard that flags one word: enough to see what the run loop does with a guard's result. */
const wordGuard = (word: string): InboundGuard => ({
  name: 'word-guard',
  rewrite: ({ text }) => (text.includes(word) ? [{ find: word, replace: '[removed]' }] : []),
  inspect: ({ text }) =>
    text.includes(word)
      ? {
          replacements: [{ find: word, replace: '[removed]' }],
          instruction: 'A word was removed: say so.',
          signals: [{ kind: 'test.word_flagged', severity: 'info', details: { word } }],
        }
      : { replacements: [], signals: [] },
});

/** A host whose one plugin declares `guard` as its inbound guard; signals land in `signals`. */
function guardedHost(guard: InboundGuard | undefined, signals: GuardSignal[]) {
  const host = createPluginHost({ guards: { recordSignal: (s) => void signals.push(s) } });
  if (guard)
    host.register(
      definePlugin({
        name: 'word-guard-plugin',
        version: '1.0.0',
        contract: 1,
        core: '^0.1.0',
        guards: { inbound: guard },
      }),
    );
  return host;
}

async function run(
  input: string | ContentPart[],
  guard?: InboundGuard,
  store = createInMemoryRunStore(),
) {
  const requests: ModelRequest[] = [];
  const scripted = createScriptedModel();
  // The echo model, with the requests it was given kept for the assertions.
  const model: LanguageModel = {
    ...scripted,
    stream: (request, options) => {
      // A copy: the run loop goes on appending to the same array.
      requests.push({ ...request, messages: [...request.messages] });
      return scripted.stream(request, options);
    },
  };
  const signals: GuardSignal[] = [];
  const agent = defineAgent({
    name: 'guarded',
    instructions: 'Answer.',
    model: { provider: 'scripted', model: 'echo' },
    memory: { enabled: false, autoExtract: false },
    ...(guard ? { plugins: [{ name: 'word-guard-plugin', version: '^1.0.0' }] } : {}),
  });
  let answer = '';
  for await (const event of runAgent(
    { agent, agentId: 'a', workspaceId: 'w', conversationId: 'c', input },
    {
      models: () => model,
      plugins: guardedHost(guard, signals),
      store,
    },
  ))
    if (event.type === 'text.delta') answer += event.delta;
  return { answer, requests, store, signals };
}

describe('inbound guard in the run loop', () => {
  it('shows the model the guarded message, keeps the original, records signals, adds the instruction', async () => {
    const { answer, requests, store, signals } = await run(
      'visit evil.example now',
      wordGuard('evil.example'),
    );
    expect(answer).toBe('(scripted) visit [removed] now');
    expect(requests[0]!.messages[0]).toMatchObject({ role: 'system' });
    expect(String(requests[0]!.messages[0]!.content)).toContain('A word was removed: say so.');
    expect(store.messages[0]!.message).toEqual({ role: 'user', content: 'visit evil.example now' });
    expect(signals).toEqual([
      { kind: 'test.word_flagged', severity: 'info', details: { word: 'evil.example' } },
    ]);
  });

  it('changes nothing when the guard finds nothing, or when there is no guard', async () => {
    const guarded = await run('hello there', wordGuard('evil.example'));
    const plain = await run('hello there');
    expect(guarded.answer).toBe('(scripted) hello there');
    expect(plain.answer).toBe('(scripted) hello there');
    expect(guarded.requests[0]!.messages).toEqual(plain.requests[0]!.messages);
    expect(guarded.signals).toEqual([]);
  });

  it('keeps a flagged word out of the history the model sees on the next turn', async () => {
    const guard = wordGuard('evil.example');
    const first = await run('visit evil.example now', guard);
    const second = await run('and now?', guard, first.store);
    expect(second.requests[0]!.messages.slice(1)).toEqual([
      { role: 'user', content: 'visit [removed] now' },
      { role: 'assistant', content: '(scripted) visit [removed] now' },
      { role: 'user', content: 'and now?' },
    ]);
    expect(second.signals).toEqual([]);
    expect(first.store.messages[0]!.message.content).toBe('visit evil.example now');
  });

  it('rewrites every text part of a multi-part input and leaves images alone', () => {
    const image: ContentPart = { type: 'image', url: 'https://evil.example/a.png' };
    const out = applyReplacements(
      [{ type: 'text', text: 'a evil.example b evil.example' }, image],
      [
        { find: 'evil.example', replace: 'X' },
        { find: '', replace: 'never applied' },
      ],
    );
    expect(out).toEqual([{ type: 'text', text: 'a X b X' }, image]);
  });

  it('replaces the longest span first, so a markdown link goes whole', () => {
    const text = '[evil.example](https://evil.example/x)';
    expect(
      applyReplacements(text, [
        { find: 'https://evil.example/x', replace: 'URL' },
        { find: text, replace: 'LINK' },
      ]),
    ).toBe('LINK');
  });
});

describe('guards from the plugin host', () => {
  const trust = {
    officialDomains: ['acme.org'],
    officialLinks: [{ label: 'migration', url: 'https://acme.org/migrate' }],
    brandTokens: ['acme'],
    blocklist: [],
  };
  /** A guard that removes `word` and says which official link the host's trust facts give. */
  const trustingGuard = (name: string, word: string): InboundGuard => ({
    name,
    inspect: ({ text, trust: facts, report }) => {
      report?.(text.includes(word) ? 'warn' : 'allow');
      return {
        replacements: [{ find: word, replace: `[${name}]` }],
        instruction: `${name}: point to ${facts?.officialLinks[0]?.url}`,
        signals: [{ kind: `test.${name}`, severity: 'info', details: {} }],
      };
    },
  });
  const plugin = (name: string, guard: InboundGuard) =>
    definePlugin({
      name,
      version: '1.0.0',
      contract: 1,
      core: '^0.1.0',
      guards: { inbound: guard },
    });

  it("runs every listed plugin's guard with the host's services, in the agent's plugin order", async () => {
    const verdicts: unknown[] = [];
    const recorded: unknown[] = [];
    const host = createPluginHost({
      contextProviders: [{ name: 'host', provide: () => 'Host facts first.' }],
      guards: {
        trust,
        onVerdict: (verdict, source) => verdicts.push({ verdict, ...source }),
        recordSignal: (signal, source) => void recorded.push([signal.kind, source.plugin]),
      },
    });
    host.register(plugin('p-one', trustingGuard('one', 'alpha')));
    host.register(plugin('p-two', trustingGuard('two', 'beta')));
    const agent = defineAgent({
      name: 'twice-guarded',
      instructions: 'Answer.',
      model: { provider: 'scripted', model: 'echo' },
      memory: { enabled: false, autoExtract: false },
      plugins: [
        { name: 'p-two', version: '^1.0.0' },
        { name: 'p-one', version: '^1.0.0' },
      ],
    });
    const requests: ModelRequest[] = [];
    const scripted = createScriptedModel();
    let answer = '';
    for await (const event of runAgent(
      {
        agent,
        agentId: 'a',
        workspaceId: 'w',
        conversationId: 'c',
        runId: 'run_1',
        input: 'alpha and beta',
      },
      {
        models: () => ({
          ...scripted,
          stream: (request, options) => {
            requests.push({ ...request, messages: [...request.messages] });
            return scripted.stream(request, options);
          },
        }),
        plugins: host,
        store: createInMemoryRunStore(),
      },
    ))
      if (event.type === 'text.delta') answer += event.delta;
    expect(answer).toBe('(scripted) [one] and [two]');
    const system = String(requests[0]!.messages[0]!.content);
    expect(system).toContain('two: point to https://acme.org/migrate\n\none: point to');
    expect(system.indexOf('Host facts first.')).toBeGreaterThan(-1);
    expect(verdicts).toEqual([
      {
        verdict: 'warn',
        plugin: 'p-two',
        guard: 'two',
        runId: 'run_1',
        agentId: 'a',
        conversationId: 'c',
      },
      {
        verdict: 'warn',
        plugin: 'p-one',
        guard: 'one',
        runId: 'run_1',
        agentId: 'a',
        conversationId: 'c',
      },
    ]);
    expect(recorded).toEqual([
      ['test.two', 'p-two'],
      ['test.one', 'p-one'],
    ]);
  });
});
