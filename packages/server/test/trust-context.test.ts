import { validateAgentValue } from '@parley/agent-file';
import { createInMemoryRunStore, createPluginHost, runAgent } from '@parley/core';
import { guardConfigWithTrust } from '@parley/plugin-scam-guard';
import {
  type ContentPart,
  createModel,
  type LanguageModel,
  type ModelMessage,
} from '@parley/providers';
import { describe, expect, it } from 'vitest';
import { trustContextProviders } from '../src/trust/context.ts';
import { workspaceTrust } from '../src/trust/guard-config.ts';

/*
 * What the trust page adds to a run: the context the model receives and the guard
 * configuration the trust page completes. The trust metrics and the classifier are
 * @parley/trust's (packages/trust/test/trust-metrics.test.ts).
 */

const PAGE = {
  title: 'Acme',
  officialDomains: ['acme.org'],
  handles: [{ platform: 'x', handle: '@acme' }],
  canonicalMigrationLink: 'https://acme.org/migrate',
  canonicalLinks: ['https://docs.acme.org/'],
  statements: ['We never DM first.'],
  brandTokens: ['acme', 'ac'],
  blocklist: ['acme-claim.example'],
};

describe('what the model receives', () => {
  it('carries the canonical migration link in the system prompt of every run', async () => {
    const seen: ModelMessage[][] = [];
    // The scripted provider, recording the request it gets (what a real model would be sent).
    const scripted = createModel({ provider: 'scripted', model: 'echo' });
    const model: LanguageModel = {
      ...scripted,
      stream(request, options) {
        seen.push(request.messages);
        return scripted.stream(request, options);
      },
    };
    const checked = validateAgentValue({
      name: 'helper',
      instructions: 'Help.',
      model: { provider: 'scripted', model: 'x' },
      memory: { enabled: false, autoExtract: false },
    });
    if (!checked.ok) throw new Error('agent');
    const events = [];
    for await (const event of runAgent(
      {
        agent: checked.definition,
        agentId: 'a',
        workspaceId: 'w',
        conversationId: 'c',
        input: 'How do I migrate?',
      },
      {
        models: () => model,
        store: createInMemoryRunStore(),
        plugins: createPluginHost({ contextProviders: trustContextProviders(PAGE) }),
      },
    ))
      events.push(event);
    expect(events.at(-1)?.type).toBe('run.finish');
    const system = seen[0]?.find((m) => m.role === 'system')?.content as string | ContentPart[];
    expect(String(system)).toContain(
      'The one canonical migration link is https://acme.org/migrate. Whenever you answer anything about migration, include this exact link',
    );
    expect(String(system)).toContain('Official domains: acme.org.');
    expect(String(system)).toContain('We never DM first.');
  });

  it('adds nothing for an empty page', () => {
    expect(
      trustContextProviders({
        ...PAGE,
        officialDomains: [],
        handles: [],
        canonicalMigrationLink: null,
        canonicalLinks: [],
        statements: [],
      }),
    ).toEqual([]);
  });
});

describe('the scam guard configuration the trust page completes', () => {
  it('adds the page to what the agent configured, without duplicates or short tokens', () => {
    const config = guardConfigWithTrust(
      {
        canonicalDomains: ['acme.org', 'acme.dev'],
        brandTokens: ['acme'],
        blocklist: [],
        canonicalLinks: [{ label: 'docs', url: 'https://docs.acme.org/' }],
      },
      workspaceTrust(PAGE),
    );
    expect(config).toEqual({
      canonicalDomains: ['acme.org', 'acme.dev'],
      brandTokens: ['acme'],
      blocklist: ['acme-claim.example'],
      canonicalLinks: [
        { label: 'docs', url: 'https://docs.acme.org/' },
        { label: 'migration', url: 'https://acme.org/migrate' },
      ],
    });
  });
});
