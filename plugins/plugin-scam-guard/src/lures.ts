/**
 * Wording of wallet-drainer and fake-support lures (the patterns of DefiLlama's "direct message
 * scams" page and the Discord scam lists): promises, wallet actions, seed-phrase requests,
 * urgency and moves to private messages. A lure alone proves little (people ask how to migrate
 * a wallet); combined with a link that is not canonical it decides the verdict.
 */
export type LureCategory =
  | 'claim_airdrop'
  | 'wallet_action'
  | 'seed_phrase'
  | 'urgency'
  | 'dm_request';

const PATTERNS: Record<LureCategory, RegExp> = {
  claim_airdrop:
    /\b(?:claim(?:ing)?\s+(?:your|the|now|free|my)|airdrops?|free\s+(?:mint|tokens?|nitro|nfts?|crypto)|whitelist(?:ed)?\s+(?:spot|is\s+open)|you\s+(?:are|were)\s+(?:eligible|selected)|rewards?\s+(?:are\s+)?(?:live|ready|waiting|unclaimed))\b/i,
  wallet_action:
    /\b(?:(?:connect|validate|verify|sync|synchroni[sz]e|rectify|restore|migrate|unlock|reactivate|re-activate|authenticate|whitelist)\s+(?:your|the)\s+(?:wallets?|accounts?|tokens?|funds|assets)|wallet\s+(?:validation|verification|synchroni[sz]ation|sync|rectification))\b/i,
  seed_phrase:
    /\b(?:send|share|enter|type|paste|provide|give|submit|import|confirm|input|dm)\b[^.!?\n]{0,40}?\b(?:(?:seed|recovery|secret|mnemonic|backup)\s*(?:phrase|words)|private\s*keys?|12[-\s]word|24[-\s]word)/i,
  urgency:
    /\b(?:urgent(?:ly)?|immediately|asap|expires?\s+(?:in|soon|today|tonight)|within\s+\d+\s*(?:min(?:ute)?s?|hours?|h)\b|last\s+chance|only\s+\d+\s+(?:left|spots|remaining)|act\s+now|final\s+(?:notice|warning)|will\s+be\s+(?:lost|frozen|suspended|burned))/i,
  dm_request:
    /\b(?:dm\s+me|pm\s+me|message\s+me\s+(?:privately|directly)|check\s+(?:your\s+)?(?:dms?|inbox|private\s+messages?)|(?:sent|send)\s+you\s+a\s+(?:dm|pm|private\s+message)|(?:contact|reach)\s+(?:our\s+)?(?:support|admins?|moderators?)\s+(?:on|via|in|through)\s+(?:telegram|whatsapp|dms?))\b/i,
};

/** Negations before a seed-phrase mention make it advice, not a request ("never share your seed phrase"). */
const ADVICE =
  /\b(?:never|not|don'?t|do\s+not|no\s+one|nobody|won'?t|will\s+not)\b[^.!?\n]{0,30}$/i;

/** The lure categories a message's text matches. */
export function findLures(text: string): LureCategory[] {
  const found: LureCategory[] = [];
  for (const [category, pattern] of Object.entries(PATTERNS) as [LureCategory, RegExp][]) {
    const match = pattern.exec(text);
    if (!match) continue;
    if (
      category === 'seed_phrase' &&
      ADVICE.test(
        text.slice(Math.max(0, match.index - 40), match.index + match[0].split(/\s/, 1)[0]!.length),
      )
    )
      continue;
    found.push(category);
  }
  return found;
}

/** Categories that are a scam's core ask, not just pressure. */
export const STRONG_LURES: ReadonlySet<LureCategory> = new Set([
  'claim_airdrop',
  'wallet_action',
  'seed_phrase',
]);
