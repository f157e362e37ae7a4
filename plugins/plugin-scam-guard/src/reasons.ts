export type Verdict = 'allow' | 'warn' | 'block';

/**
 * Every reason the guard gives, with the verdict it implies by itself. The codes are stable:
 * signals, dashboards and tests refer to them. Lures are informational alone; the `lure.*`
 * combinations below carry their weight.
 */
export const REASONS = {
  'canonical.domain': { verdict: 'allow', text: 'an official domain of the workspace' },
  'host.third_party': { verdict: 'allow', text: 'a domain the guard knows nothing against' },
  'host.no_public_suffix': {
    verdict: 'allow',
    text: 'a host without a public suffix (local name)',
  },
  'host.punycode': { verdict: 'allow', text: 'an internationalised (punycode) host, decoded' },
  'url.other_scheme': { verdict: 'allow', text: 'a link that is not a web page (mailto:, tg:)' },
  'url.relative': { verdict: 'allow', text: 'a relative link (no host)' },
  'host.ip_literal': { verdict: 'warn', text: 'an IP address instead of a domain name' },
  'link.shortener': { verdict: 'warn', text: 'a link shortener that hides its target' },
  'url.userinfo': { verdict: 'warn', text: 'a user name before the host (user@host)' },
  'url.malformed': { verdict: 'warn', text: 'a link that does not parse as a URL' },
  'url.oversized': { verdict: 'warn', text: 'a link longer than the guard reads' },
  'link_text.mismatch': {
    verdict: 'warn',
    text: 'the link text shows another domain than the target',
  },
  'lookalike.mixed_script': {
    verdict: 'warn',
    text: 'a domain label mixing Latin with Cyrillic or Greek',
  },
  'lookalike.edit_distance': { verdict: 'warn', text: 'a domain a typo away from a brand name' },
  'lookalike.brand_embedded': {
    verdict: 'warn',
    text: 'a brand name with extra words, on a domain that is not official',
  },
  'lookalike.brand_other_tld': {
    verdict: 'warn',
    text: 'a brand name under a suffix that is not official',
  },
  'lookalike.brand_in_subdomain': {
    verdict: 'warn',
    text: 'a brand name in the subdomain of another domain',
  },
  'lookalike.brand_in_handle': {
    verdict: 'warn',
    text: 'a brand name in an account, channel or invite on a shared platform that is not an official one',
  },
  'url.dangerous_scheme': {
    verdict: 'block',
    text: 'a javascript:, vbscript:, data: or file: link',
  },
  'url.userinfo_domain': {
    verdict: 'block',
    text: 'a domain written before @ so the real host hides behind it',
  },
  'link_text.hides_target': {
    verdict: 'block',
    text: 'the link text shows an official domain, the target is another',
  },
  'lookalike.confusable': {
    verdict: 'block',
    text: 'a domain that looks like a brand name (homoglyphs)',
  },
  'blocklist.workspace': { verdict: 'block', text: "on the workspace's blocklist" },
  'blocklist.known_bad': { verdict: 'block', text: 'on the bundled known-bad list' },
  'lure.claim_airdrop': { verdict: 'allow', text: 'promises a claim, airdrop or free mint' },
  'lure.wallet_action': {
    verdict: 'allow',
    text: 'asks to connect, validate, sync or migrate a wallet',
  },
  'lure.seed_phrase': { verdict: 'allow', text: 'asks for a seed phrase or private key' },
  'lure.urgency': { verdict: 'allow', text: 'pushes for urgency' },
  'lure.dm_request': { verdict: 'allow', text: 'moves the talk to private messages' },
  'lure.send_to_receive': {
    verdict: 'allow',
    text: 'offers more crypto back for crypto sent, or guaranteed returns',
  },
  'lure.support_desk': { verdict: 'allow', text: 'points to a support desk, agent or ticket' },
  'lure.fake_verification': {
    verdict: 'allow',
    text: 'asks to prove being human or to verify a role elsewhere',
  },
  'lure.with_unknown_link': {
    verdict: 'warn',
    text: 'a scam lure next to a link that is not official',
  },
  'lure.with_suspicious_link': { verdict: 'block', text: 'a scam lure next to a suspicious link' },
  'lure.seed_phrase_request': {
    verdict: 'warn',
    text: 'asks for a seed phrase, recovery phrase, private key or keystore',
  },
  'lure.dm_wallet_request': {
    verdict: 'warn',
    text: 'moves the talk to private messages about a wallet, tokens or funds',
  },
  'lure.send_for_more': {
    verdict: 'warn',
    text: 'asks to send crypto to receive more back, or promises guaranteed returns',
  },
  'message.too_many_links': { verdict: 'warn', text: 'more links than the guard assesses' },
  'message.truncated': { verdict: 'warn', text: 'longer than the guard reads' },
} as const satisfies Record<string, { verdict: Verdict; text: string }>;

export type ReasonCode = keyof typeof REASONS;

const RANK: Record<Verdict, number> = { allow: 0, warn: 1, block: 2 };

export const worse = (a: Verdict, b: Verdict): Verdict => (RANK[b] > RANK[a] ? b : a);

/** The strongest verdict the reasons imply. */
export function verdictOf(reasons: Iterable<ReasonCode>): Verdict {
  let verdict: Verdict = 'allow';
  for (const code of reasons) verdict = worse(verdict, REASONS[code].verdict);
  return verdict;
}
