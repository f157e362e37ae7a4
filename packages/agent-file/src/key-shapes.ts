/*
 * What a credential looks like by its shape alone: the prefixes and lengths providers give
 * their keys and tokens. The ElizaOS importer uses it to catch a key pasted into a character's
 * text (bio, knowledge, examples…) that the character never declared as a secret. A shape
 * can match something that is not a key (a 0x-prefixed 32-byte hash looks like a wallet
 * key); for a character file, removing such a text is the cheap mistake.
 */

export interface KeyShape {
  /** What it looks like, for a warning: "an OpenAI API key". */
  kind: string;
  /** Global, so every occurrence in a text is found. */
  regex: RegExp;
}

export const KEY_SHAPES: readonly KeyShape[] = [
  { kind: 'an Anthropic API key', regex: /(?<![A-Za-z0-9])sk-ant-[A-Za-z0-9_-]{20,}/g },
  {
    // sk-…, sk-proj-…, sk-svcacct-…, OpenRouter's sk-or-…
    kind: 'an OpenAI-style API key',
    regex: /(?<![A-Za-z0-9])sk-(?!ant-)[A-Za-z0-9_-]{20,}/g,
  },
  { kind: 'a Slack token', regex: /(?<![A-Za-z0-9])xox[abposre]-[A-Za-z0-9-]{10,}/g },
  { kind: 'a Slack app token', regex: /(?<![A-Za-z0-9])xapp-\d-[A-Za-z0-9-]{10,}/g },
  {
    kind: 'a Telegram bot token',
    regex: /(?<![A-Za-z0-9])\d{8,10}:[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])/g,
  },
  {
    // The bot's id in base64 (starting M, N or O), a timestamp, an HMAC.
    kind: 'a Discord bot token',
    regex:
      /(?<![A-Za-z0-9_-])[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}(?![A-Za-z0-9_-])/g,
  },
  {
    kind: 'a GitHub token',
    regex: /(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})/g,
  },
  { kind: 'an AWS access key id', regex: /(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])/g },
  { kind: 'a Google API key', regex: /(?<![A-Za-z0-9_-])AIza[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])/g },
  { kind: 'a Hugging Face token', regex: /(?<![A-Za-z0-9])hf_[A-Za-z0-9]{30,}/g },
  { kind: 'a Groq API key', regex: /(?<![A-Za-z0-9])gsk_[A-Za-z0-9]{40,}/g },
  { kind: 'an xAI API key', regex: /(?<![A-Za-z0-9])xai-[A-Za-z0-9]{40,}/g },
  { kind: 'a Stripe secret key', regex: /(?<![A-Za-z0-9])[rs]k_live_[A-Za-z0-9]{20,}/g },
  { kind: 'a Parley API token', regex: /(?<![A-Za-z0-9])prl_[0-9A-Za-z]{36}(?![0-9A-Za-z])/g },
  {
    kind: 'a JSON Web Token',
    regex: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/g,
  },
  {
    kind: 'a private key (PEM)',
    regex: /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g,
  },
  {
    kind: 'a wallet private key (0x and 64 hex digits)',
    regex: /(?<![A-Za-z0-9])0x[0-9a-fA-F]{64}(?![A-Za-z0-9])/g,
  },
  {
    // A Solana keypair in base58: 64 bytes are 86 to 88 characters.
    kind: 'a wallet private key (base58)',
    regex: /(?<![1-9A-HJ-NP-Za-km-z])[1-9A-HJ-NP-Za-km-z]{86,88}(?![1-9A-HJ-NP-Za-km-z])/g,
  },
];

export interface KeyShapedMatch {
  kind: string;
  value: string;
}

/** Every key-shaped part of `text`, each with what it looks like. */
export function findKeyShaped(text: string): KeyShapedMatch[] {
  const found: KeyShapedMatch[] = [];
  for (const { kind, regex } of KEY_SHAPES) {
    for (const match of text.matchAll(regex)) found.push({ kind, value: match[0] });
  }
  return found;
}
