import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createInMemoryRunStore, createPluginHost, defineAgent, runAgent } from '@parley/core';
import type { ParleyEvent } from '@parley/protocol';
import { createScriptedModel } from '@parley/providers';
import { describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import {
  assessMessage,
  createScamGuardPlugin,
  createScamLinkGuard,
  editDistance,
  extractLinks,
  isMixedScript,
  parseDomainList,
  parseGuardConfig,
  skeleton,
} from '../src/index.ts';
import { CORPUS_CONFIG } from './corpus.ts';

const config = parseGuardConfig(CORPUS_CONFIG);

describe('link extraction', () => {
  it('finds URLs, bare domains, markdown links and anchors, each once', () => {
    const { links } = extractLinks(
      'a https://x.example/p?q=1. b [t](https://y.example) c <a href="https://z.example">u</a> d w.example.com:8080/path, e ana@mail.example f notes.txt',
    );
    expect(links.map((l) => [l.source, l.target, l.text])).toEqual([
      ['markdown', 'https://y.example', 't'],
      ['html', 'https://z.example', 'u'],
      ['url', 'https://x.example/p?q=1', undefined],
      ['domain', 'w.example.com:8080/path', undefined],
    ]);
  });

  it('keeps a balanced closing bracket and drops an unbalanced one', () => {
    const { links } = extractLinks(
      '(see https://en.wikipedia.org/wiki/Foo_(bar)) and https://a.example/x).',
    );
    expect(links.map((l) => l.target)).toEqual([
      'https://en.wikipedia.org/wiki/Foo_(bar)',
      'https://a.example/x',
    ]);
  });

  it('reads ideographic dots as dots and leaves defanged or dotted words alone', () => {
    expect(extractLinks('parley。dev/migrate').links[0]?.target).toBe('parley。dev/migrate');
    expect(extractLinks('hxxps://evil[.]example e.g. i.e. v1.2.3').links).toEqual([]);
  });
});

describe('skeletons, scripts, distance', () => {
  it('folds homoglyphs the way UTS #39 does (lowercased)', () => {
    expect(skeleton('p\u0430ypal')).toBe('paypal');
    expect(skeleton('ρаrlеу')).toBe('parley');
    expect(skeleton('ｐａｒｌｅｙ')).toBe('parley');
    expect(skeleton('par\u200bley')).toBe('parley');
    expect(skeleton('parléy')).toBe('parley');
    expect(skeleton('rnetamask')).toBe(skeleton('metamask'));
    expect(skeleton('par1ey')).toBe('parley');
    expect(skeleton('parley')).not.toBe(skeleton('parlay'));
  });

  it('flags Latin mixed with Cyrillic or Greek, not a single script', () => {
    expect(isMixedScript('p\u0430rley')).toBe(true);
    expect(isMixedScript('parl\u03b5y')).toBe(true);
    expect(isMixedScript('москва')).toBe(false);
    expect(isMixedScript('münchen')).toBe(false);
  });

  it('counts a swap of neighbours as one edit and stops past the limit', () => {
    expect(editDistance('parley', 'praley', 2)).toBe(1);
    expect(editDistance('parley', 'parlley', 2)).toBe(1);
    expect(editDistance('parley', 'pxrlxy', 1)).toBe(2);
    expect(editDistance('parley', 'parley', 0)).toBe(0);
  });
});

describe('verdicts and reasons', () => {
  const cases: [string, string, string[]][] = [
    ['https://docs.parley.dev/x', 'allow', ['canonical.domain']],
    ['https://github.com/torvalds/linux', 'allow', ['host.third_party']],
    ['https://github.com/parley-dev/parley', 'allow', ['canonical.domain']],
    ['https://github.com/parley', 'warn', ['lookalike.brand_in_handle']],
    ['https://münchen.de', 'allow', ['host.punycode', 'host.third_party']],
    ['https://pаrley.dev', 'block', ['lookalike.confusable', 'lookalike.mixed_script']],
    ['parIey.dev', 'block', ['lookalike.confusable']],
    ['https://parley.app', 'warn', ['lookalike.brand_other_tld']],
    ['https://praley.dev', 'warn', ['lookalike.edit_distance']],
    ['https://parley.dev.claims.io', 'warn', ['lookalike.brand_in_subdomain']],
    ['https://parley.dev@evil.example', 'block', ['url.userinfo_domain']],
    ['https://joe@evil.example', 'warn', ['url.userinfo']],
    ['https://bit.ly/abc', 'warn', ['link.shortener']],
    ['http://[2001:db8::1]/x', 'warn', ['host.ip_literal']],
    ['vbscript:msgbox(1)', 'block', ['url.dangerous_scheme']],
    ['mailto:help@parley.dev', 'allow', []],
    ['https://sub.parley-support.help/x', 'block', ['blocklist.workspace']],
    ['https://xn--80ak6aa92e.com', 'block', ['blocklist.known_bad']],
    ['[docs](https://other.example)', 'allow', ['host.third_party']],
    ['[other.example](https://another.example)', 'warn', ['link_text.mismatch']],
    ['[parley.dev](https://another.example)', 'block', ['link_text.hides_target']],
  ];
  for (const [text, verdict, reasons] of cases) {
    it(`${text} → ${verdict}`, () => {
      const result = assessMessage(text, config);
      expect(result.verdict).toBe(verdict);
      expect(result.links).toHaveLength(text.startsWith('mailto:') ? 0 : 1);
      for (const reason of reasons) expect(result.links[0]!.reasons).toContain(reason);
    });
  }

  it("reads a connector's metadata links (a Telegram text_link), text against target", () => {
    const result = assessMessage('Official migration guide', config, {
      links: [{ text: 'parley.dev/migrate', url: 'https://parley-dev.app/migrate' }],
    });
    expect(result.verdict).toBe('block');
    expect(result.links).toMatchObject([
      {
        source: 'entity',
        domain: 'parley-dev.app',
        reasons: expect.arrayContaining(['link_text.hides_target']),
      },
    ]);
    const honest = assessMessage('guide', config, {
      links: [{ text: 'the guide', url: 'https://parley.dev/migrate' }],
    });
    expect(honest.verdict).toBe('allow');
  });

  it('raises a third-party link to warn with a strong lure, to block with a suspicious link', () => {
    expect(assessMessage('connect your wallet at https://x.example', config).reasons).toContain(
      'lure.with_unknown_link',
    );
    expect(assessMessage('claim your airdrop at bit.ly/x', config).verdict).toBe('block');
    expect(assessMessage('the meetup starts immediately, https://x.example', config).verdict).toBe(
      'allow',
    );
  });

  it('tells a seed-phrase request from seed-phrase advice', () => {
    expect(assessMessage('DM me your seed phrase, urgent', config).verdict).toBe('warn');
    expect(
      assessMessage('Never share your seed phrase, urgent or not', config).lures,
    ).not.toContain('seed_phrase');
  });
});

describe('configuration', () => {
  it('refuses a brand token of two letters and a domain that is not one, naming the field', () => {
    expect(() => parseGuardConfig({ brandTokens: ['pa'] })).toThrow(ZodError);
    expect(() => parseGuardConfig({ canonicalDomains: ['not a domain'] })).toThrow(
      /canonicalDomains/,
    );
    expect(() => parseGuardConfig({ canonicalLinks: ['javascript:alert(1)'] })).toThrow(ZodError);
    expect(() => parseGuardConfig({ extra: true })).toThrow(ZodError);
  });

  it('accepts plain URLs as canonical links and counts their domains as official', () => {
    const parsed = parseGuardConfig({ canonicalLinks: ['https://migrate.example.org/v2'] });
    expect(parsed.canonicalLinks).toEqual([
      { label: 'official', url: 'https://migrate.example.org/v2' },
    ]);
    expect(assessMessage('https://www.example.org', parsed).verdict).toBe('allow');
  });
});

describe('the inbound guard', () => {
  const guard = createScamLinkGuard(config);
  const inspect = (text: string) =>
    guard.inspect({
      text,
      agent: defineAgent({
        name: 'g',
        instructions: 'x',
        model: { provider: 'scripted', model: 'e' },
      }),
      signal: new AbortController().signal,
    });

  it('replaces a flagged link with a placeholder naming the matching official link', async () => {
    const result = await inspect('is parley-migration.com the migration site?');
    expect(result.replacements).toEqual([
      {
        find: 'parley-migration.com',
        replace: expect.stringContaining('the official link is https://parley.dev/migrate'),
      },
    ]);
    expect(result.instruction).toContain('- migration: https://parley.dev/migrate');
    expect(result.signals).toMatchObject([{ kind: 'scam.link_warned', severity: 'info' }]);
  });

  it('rewrites an earlier message the same way, without a signal or a count', () => {
    let counted = 0;
    const counting = createScamLinkGuard(config, { onAssessment: () => counted++ });
    expect(counting.rewrite!({ text: 'try bit.ly/abc or https://parley.dev' })).toEqual([
      { find: 'bit.ly/abc', replace: expect.stringContaining('link shortener') },
    ]);
    expect(counted).toBe(0);
  });

  it('stays silent for an official link', async () => {
    expect(await inspect('https://parley.dev/migrate')).toEqual({ replacements: [], signals: [] });
  });
});

describe('the plugin', () => {
  it('runs check_links in a run, as an agent calls it', async () => {
    const plugins = createPluginHost();
    plugins.register(createScamGuardPlugin(config));
    const agent = defineAgent({
      name: 'checker',
      instructions: 'Check links.',
      model: { provider: 'scripted', model: 'echo' },
      plugins: [{ name: '@parley/plugin-scam-guard', version: '^0.1.0' }],
      memory: { enabled: false, autoExtract: false },
    });
    const model = createScriptedModel({
      script: [
        [
          {
            type: 'tool_call',
            name: 'check_links',
            args: { text: 'go to rnetamask.io' },
            id: 'c1',
          },
        ],
        [{ type: 'text', text: 'That link is fake.' }],
      ],
    });
    const events: ParleyEvent[] = [];
    for await (const event of runAgent(
      { agent, agentId: 'a', workspaceId: 'w', conversationId: 'c', input: 'check it' },
      { models: () => model, plugins, store: createInMemoryRunStore() },
    ))
      events.push(event);
    const result = events.find((e) => e.type === 'tool.result');
    expect(result).toMatchObject({
      ok: true,
      output: { verdict: 'block', links: [{ domain: 'rnetamask.io', verdict: 'block' }] },
    });
  });
});

describe('the known-bad list and its refresh', () => {
  it('reads plain lists, JSON arrays and MetaMask configs, and reports bad entries by line', () => {
    expect(parseDomainList('# c\nEvil.Example\n\nhttps://x.evil.example/p\n')).toEqual({
      domains: ['evil.example', 'x.evil.example'],
      problems: [],
    });
    expect(parseDomainList('["a.example", "bücher.example"]').domains).toEqual([
      'a.example',
      'xn--bcher-kva.example',
    ]);
    expect(parseDomainList('{"blacklist": ["b.example", 7, "not_a_domain"]}').problems).toEqual([
      { line: 2, text: '7', reason: 'not a string' },
      { line: 3, text: 'not_a_domain', reason: 'not a domain name with a public suffix' },
    ]);
    expect(() => parseDomainList('{"whitelist": []}')).toThrow(/blacklist/);
  });

  const run = promisify(execFile);
  const script = new URL('../scripts/refresh-known-bad.ts', import.meta.url).pathname;

  it('writes a validated list from local files, and refuses a source with bad entries', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scam-guard-'));
    await writeFile(join(dir, 'a.txt'), 'evil.example\nfake-parley.example\n');
    await writeFile(join(dir, 'b.json'), '{"blacklist": ["drain.example", "evil.example"]}');
    await writeFile(join(dir, 'bad.txt'), 'ok.example\n192.168.0.1\n');
    const out = join(dir, 'out.txt');
    const ok = await run(process.execPath, [
      script,
      '--out',
      out,
      join(dir, 'a.txt'),
      join(dir, 'b.json'),
    ]);
    expect(ok.stdout).toContain('wrote 3 domains');
    const written = await readFile(out, 'utf8');
    expect(parseDomainList(written)).toEqual({
      domains: ['drain.example', 'evil.example', 'fake-parley.example'],
      problems: [],
    });
    expect(written).toMatch(/^# generated: \d{4}-/m);

    const refused = await run(process.execPath, [script, '--out', out, join(dir, 'bad.txt')]).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(refused).toMatchObject({ code: 1 });
    expect((refused as { stderr: string }).stderr).toMatch(/bad\.txt:2: not a domain name/);
    expect(await readFile(out, 'utf8')).toBe(written);
  });

  it('ships a bundled list that parses without problems', async () => {
    const bundled = await readFile(
      new URL('../data/known-bad-domains.txt', import.meta.url),
      'utf8',
    );
    const list = parseDomainList(bundled);
    expect(list.problems).toEqual([]);
    expect(list.domains.length).toBeGreaterThan(0);
  });
});

describe("the plugin's guards slot", () => {
  const inbound = createScamGuardPlugin(config).guards?.inbound;
  const agent = defineAgent({
    name: 'g',
    instructions: 'x',
    model: { provider: 'scripted', model: 'e' },
  });
  const trust = {
    officialDomains: [],
    officialLinks: [{ label: 'official', url: 'https://status.acme-news.org/' }],
    brandTokens: [],
    blocklist: ['claim-now.example'],
  };

  it('declares the inbound guard, completed by the host trust facts and reporting each verdict', async () => {
    expect(inbound?.name).toBe('scam-link-guard');
    const reported: string[] = [];
    const inspect = (withTrust: boolean) =>
      inbound!.inspect({
        text: 'get it at https://claim-now.example/x',
        agent,
        signal: new AbortController().signal,
        ...(withTrust ? { trust } : {}),
        report: (verdict) => reported.push(verdict),
      });
    expect((await inspect(false)).signals).toEqual([]);
    const guarded = await inspect(true);
    expect(guarded.signals).toMatchObject([{ kind: 'scam.link_blocked' }]);
    expect(guarded.instruction).toContain('https://status.acme-news.org/');
    expect(reported).toEqual(['allow', 'block']);
    expect(inbound!.rewrite!({ text: 'see https://claim-now.example/x', trust })).toHaveLength(1);
  });
});
