import { describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import {
  assessMessage,
  createAssessor,
  GuardConfigSchema,
  parseGuardConfig,
} from '../src/index.ts';

/*
 * Issue #30, "Scam-link guard": each finding of the held-out run as a rule test. The messages
 * here are not the held-out corpus's (test/corpus/), which stays unseen by the rules' tests.
 */

const config = parseGuardConfig({
  canonicalDomains: ['parley.dev'],
  brandTokens: ['parley'],
  canonicalLinks: [
    { label: 'migration', url: 'https://parley.dev/migrate' },
    { label: 'code', url: 'https://github.com/parley-dev' },
    { label: 'x', url: 'https://x.com/parley' },
    { label: 'telegram', url: 'https://t.me/parley_chat' },
    { label: 'discord', url: 'https://discord.gg/parley' },
    { label: 'form', url: 'https://docs.google.com/forms/d/e/1FAIpQLSeParleyForm/viewform' },
    { label: 'package', url: 'https://www.npmjs.com/package/@parley/core' },
  ],
});
const assess = createAssessor(config);
const verdictOf = (text: string) => assess(text).verdict;

describe('link-free lures', () => {
  it('warns on a request for secret material, with no link and no other lure', () => {
    for (const text of [
      'Please send me your recovery phrase so I can look at the problem',
      'what is your private key? I need it to restore access',
      'To unlock the account, type the 12 words of your wallet here',
      'We require your mnemonic to confirm ownership',
    ]) {
      const result = assess(text);
      expect(result.verdict, text).toBe('warn');
      expect(result.reasons, text).toContain('lure.seed_phrase_request');
    }
  });

  it('leaves advice about secret material alone', () => {
    for (const text of [
      'Never share your recovery phrase with anyone, including admins',
      'Nobody from the team will ask you to send your private key',
      'Is a seed phrase the same thing as a private key?',
    ])
      expect(verdictOf(text), text).toBe('allow');
  });

  it('warns on a move to private messages about a wallet, tokens or funds', () => {
    for (const text of [
      'DM me to migrate your tokens',
      'message me privately and I will sort out your wallet',
      'inbox me, I can recover the funds you lost',
    ]) {
      const result = assess(text);
      expect(result.verdict, text).toBe('warn');
      expect(result.reasons, text).toContain('lure.dm_wallet_request');
    }
    expect(verdictOf('DM me if you want to join the hackathon team')).toBe('allow');
  });

  it('warns on a request to send crypto to receive more', () => {
    const result = assess('Send 1 ETH to the address in my bio and receive 2 ETH back');
    expect(result.verdict).toBe('warn');
    expect(result.reasons).toContain('lure.send_for_more');
  });
});

describe('official links on shared platforms', () => {
  it('allows the official account and what is under it', () => {
    for (const url of [
      'https://github.com/parley-dev',
      'https://github.com/Parley-Dev/parley/issues/12',
      'https://x.com/parley/status/123',
      'https://twitter.com/parley',
      'https://t.me/parley_chat',
      'https://discord.com/invite/parley',
      'https://docs.google.com/forms/d/e/1FAIpQLSeParleyForm/viewform',
      'https://www.npmjs.com/package/@parley/core',
    ]) {
      const result = assess(`Official: ${url}`);
      expect(result.verdict, url).toBe('allow');
      expect(result.links[0]!.reasons, url).toEqual(['canonical.domain']);
    }
  });

  it('does not allowlist the rest of the platform', () => {
    const airdrop = assess('Airdrop is live, claim it here: https://github.com/someone/airdrop');
    expect(airdrop.verdict).toBe('warn');
    expect(airdrop.links[0]!.reasons).not.toContain('canonical.domain');
    // Segment-aware: /parley-dev does not cover /parley-dev-evil.
    expect(assess('https://github.com/parley-dev-evil/x').links[0]!.reasons).not.toContain(
      'canonical.domain',
    );
    expect(
      assess('Claim your reward: https://docs.google.com/forms/d/e/1FAIpQLSeOther/viewform')
        .verdict,
    ).toBe('warn');
  });

  it('never treats a shared platform listed as an official domain as official', () => {
    expect(() => parseGuardConfig({ canonicalDomains: ['github.com'] })).toThrow(/shared platform/);
  });
});

describe('brands inside handles on shared platforms', () => {
  it('warns on a handle, channel or invite that carries the brand and is not official', () => {
    for (const url of [
      'https://t.me/Parley_Support_Official',
      'https://x.com/parleyhelpdesk',
      'https://discord.gg/parley-support',
      'https://medium.com/@parley.team/update',
      'https://github.com/parley-airdrop/claim',
    ]) {
      const result = assess(`Reach us at ${url}`);
      expect(result.verdict, url).toBe('warn');
      expect(result.links[0]!.reasons, url).toContain('lookalike.brand_in_handle');
    }
    expect(verdictOf('A good thread: https://x.com/vitalikbuterin/status/1')).toBe('allow');
  });
});

describe('wallet actions toward an unknown domain, in any wording', () => {
  it('warns whatever the wording', () => {
    for (const text of [
      'Kindly re-sync the wallet through https://node-fix.example to get your balance back',
      'Authorise your MetaMask at https://auth-portal.example',
      'hook up your ledger at https://ledger-link.example',
      'Your wallet must be rectified: https://fixer.example',
      'sign the approval on https://swap-helper.example to release the stuck funds',
    ]) {
      const result = assess(text);
      expect(result.verdict, text).toBe('warn');
      expect(result.reasons, text).toContain('lure.with_unknown_link');
    }
  });

  it('warns on an action pointed straight at an unknown link, or at a wallet named before', () => {
    for (const text of [
      'Withdrawals are slow today, deposit via https://fast-lane.example instead',
      'Your wallet looks compromised, secure it now at https://safe-keeper.example',
      "Don't forget to connect your wallet at https://portal.example",
    ])
      expect(verdictOf(text), text).toBe('warn');
  });

  it('reads a negation in the same clause as advice, not as a request', () => {
    expect(
      verdictOf('Someone posted https://portal.example, do not connect your wallet there'),
    ).toBe('allow');
    expect(
      verdictOf('The token approval checker is at https://etherscan.io/tokenapprovalchecker'),
    ).toBe('allow');
  });

  it('does not warn on the same words without a link, or with an official one', () => {
    expect(verdictOf('How do I sync my wallet after the upgrade?')).toBe('allow');
    expect(verdictOf('Connect your wallet at https://parley.dev/migrate')).toBe('allow');
  });
});

describe('configuration errors', () => {
  it('names an unknown key, its path, and the closest field', () => {
    try {
      parseGuardConfig({ officialLinks: ['https://parley.dev'] });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ZodError);
      const issue = (error as ZodError).issues[0]!;
      expect(issue.path).toEqual(['officialLinks']);
      expect(issue.message).toMatch(/officialLinks/);
      expect(issue.message).toMatch(/did you mean `canonicalLinks`\?/);
    }
  });

  it('reports an unknown key beside a bad known field, every mistake at once', () => {
    const result = GuardConfigSchema.safeParse({ brandTokens: 'acme', officialLink: [] });
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toEqual([
      'brandTokens',
      'officialLink',
    ]);
  });

  it('assesses with a config parsed from the same input (assessMessage)', () => {
    expect(assessMessage('https://github.com/parley-dev', config).verdict).toBe('allow');
  });
});
