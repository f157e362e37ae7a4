/**
 * Wording of wallet-drainer and fake-support lures, modelled on what they ask for rather than
 * on fixed phrases: a wallet-ish thing next to an action verb ("re-sync the wallet", "approve
 * spending", "wallets must be re-verified"), claims and eligibility, requests for secret
 * material, moves to private messages, send-to-receive offers, fake helpdesks and fake
 * verification. Most categories prove little alone (people ask how to migrate a wallet);
 * combined with a link that is not official they decide the verdict. Three stand alone: a
 * request for secret material, a move to private messages about a wallet or funds, and a
 * send-to-receive offer (see `STANDALONE`).
 */
export type LureCategory =
  | 'claim_airdrop'
  | 'wallet_action'
  | 'seed_phrase'
  | 'urgency'
  | 'dm_request'
  | 'send_to_receive'
  | 'support_desk'
  | 'fake_verification';

/** What a wallet holds or signs: the object of a wallet action. */
const WALLET_NOUN = String.raw`(?:wallets?|walletconnect|metamask|ledger|trezor|phantom|rabby|trust\s*wallet|accounts?|addresses|address|tokens?|coins?|funds|assets|balances?|holdings|nfts?|lp|liquidity|positions?|stakes?|staked\s+\w+|approvals?|permissions?|allowances?|permits?|spending|transactions?|tx|withdrawals?|deposits?|vesting|allocations?|rewards?|refunds?|bridge|\$[a-z]{2,6})`;
/**
 * What is done to it: connecting, signing, validating, moving, recovering. Verb forms only
 * ("approve", "approved"), not the nouns ("approval"): "token approval checker" asks nothing.
 */
const WALLET_VERB = String.raw`(?:connect(?:s|ed|ing)?|hook\w*\s+up|plug\w*\s+in|sign(?:s|ing|ed)?(?:\s+in)?|log\w*\s+in|approv(?:e|es|ed|ing)|authori[sz](?:e|es|ed|ing)|authenticat(?:e|es|ed|ing)|claim(?:s|ed|ing)?|(?:re-?)?verif(?:y|ies|ied|ying)|(?:re-?)?validat(?:e|es|ed|ing)|(?:re|de)?-?sync(?:s|ed|ing|hroni[sz](?:e|es|ed|ing))?|synchroni[sz](?:e|es|ed|ing)|rectif(?:y|ies|ied|ying)|restor(?:e|es|ed|ing)|recover(?:s|ed|ing)?|import(?:s|ed|ing)?|migrat(?:e|es|ed|ing)|revok(?:e|es|ed|ing)|unlock(?:s|ed|ing)?|unstuck|unfreez(?:e|es|ing)|whitelist(?:s|ed|ing)?|blacklist(?:s|ed|ing)?|register(?:s|ed|ing)?|confirm(?:s|ed|ing)?|re-?activat(?:e|es|ed|ing)|initiali[sz](?:e|es|ed|ing)|fix(?:es|ed|ing)?|move|swap(?:s|ped|ping)?|stak(?:e|es|ed|ing)|re-?stak(?:e|es|ed|ing)|deposit(?:s|ed|ing)?|redeem(?:s|ed|ing)?|secur(?:e|ing)|repair(?:s|ed|ing)?|re-?enabl(?:e|es|ed|ing)|harvest(?:s|ed|ing)?|withdraw(?:s|ing)?|bridg(?:e|ing))`;
/** Noun and verb in either order, in one clause, a few words apart. */
const GAP = String.raw`[^.!?\n]{0,28}?`;
/** What a link becomes in the prose the patterns read (see `assess.ts`). */
export const LINK_MARK = '⧉';

const PATTERNS: Record<LureCategory, RegExp> = {
  claim_airdrop:
    /\b(?:claim(?:able|ing|s)?|unclaimed|redeem\w*|airdrops?\s+(?:is|are|has|have)?\s*(?:live|open|started|ready)|(?:air)?drops?\s+(?:round|season|phase)|(?:surprise|collection|nft|token|retro(?:active)?)\s*drops?|giveaways?|giving\s+away|free\s+(?:mint|tokens?|(?:discord\s+)?nitro|nfts?|crypto|eth|btc|pass|badge)|(?:stealth|free|surprise)\s+mint|mint\s+(?:is\s+)?live|whitelist(?:ed)?\s+(?:spots?|is\s+open|open)|(?:eligible|qualif(?:y|ies|ied)|(?:you|wallet|address)\s+(?:was|were|is|are|has\s+been)\s+selected)|(?:rewards?|allocation|bonus|distribution|payout)\s+(?:is\s+|are\s+)?(?:live|ready|waiting|available|open|unclaimed)|you(?:'re|\s+are)\s+owed|you\s+(?:have\s+)?won|(?:grab|collect)\s+(?:your|yours)|(?:get|receive)\s+your\s+(?:prize|reward|rewards|tokens|share|allocation|payout|airdrop|bonus)|prizes?|payouts?)\b/i,
  wallet_action: new RegExp(
    [
      String.raw`\b${WALLET_VERB}\b${GAP}\b${WALLET_NOUN}\b`,
      String.raw`\b${WALLET_NOUN}${GAP}\b${WALLET_VERB}\b`,
      String.raw`\blink\s+(?:up\s+)?(?:your\s+|the\s+|a\s+)?(?:wallet|metamask|account|ledger)s?\b`,
      // An action pointed straight at a link: "deposit via ⧉", "migrate now: ⧉", "sign here ⧉".
      String.raw`\b${WALLET_VERB}\b[^.!?\n${LINK_MARK}]{0,16}?(?:\b(?:at|on|via|through|using|here|now)\b)\s*[:\-→]?\s*${LINK_MARK}`,
      // A wallet named before, acted on by pronoun: "your wallet is compromised, secure it now".
      String.raw`\b${WALLET_NOUN}\b[^.!?\n]{0,40}?\b${WALLET_VERB}\s+(?:it|them)\b`,
      // Contracts are approved, signed and migrated (not verified: that is a developer's chore).
      String.raw`\b(?:approv\w+|sign\w*|authori[sz]\w+|interact\w*|migrat\w+)\b${GAP}\bcontracts?\b`,
      String.raw`\bcontracts?\b${GAP}\b(?:approv\w+|migrat\w+|move)\b`,
      String.raw`\bwallet\s+(?:recovery|rectification|validation|verification|sync\w*|synchroni[sz]ation|connection|repair)\b`,
      // Two actions joined ("connect and sign", "connect + deposit") need no noun.
      String.raw`\b(?:connect|sign|approve)\s*(?:and|&|\+|then)\s*(?:sign|deposit|approve|claim|stake)\b`,
      // The place an action happens: "migration portal", "sync tool", "conversion tool".
      String.raw`\b(?:migration|claim|staking|airdrop|bridge|recovery|sync|validation|verification|wallet|conversion|refund|payout|swap)\s+(?:portal|tool|dapp|script|bot)\b`,
    ].join('|'),
    'i',
  ),
  seed_phrase: new RegExp(
    [
      // A request verb, then the secret ("send me your recovery phrase").
      String.raw`\b(?:send|share|enter|type|paste|provide|give|submit|upload|import|confirm|input|dm|pm|reply\s+with|write|fill\s+in|need|needs|require|requires|using|use|export|show|hand\s+over|tell\s+me)\b[^.!?\n]{0,40}?\b(?:your|the|those|these|my)\b[^.!?\n]{0,20}?${secret()}`,
      // A question for it ("what is your seed phrase?", "which words did your wallet give you?").
      String.raw`\bwhat(?:'s|\s+is|\s+are)\s+(?:your|the)\b[^.!?\n]{0,15}?${secret()}`,
      String.raw`\b(?:what|which)\s+(?:words|phrase)\b[^.!?\n]{0,30}?\bwallet\b`,
      // The secret, then that it is needed ("the first 6 words of your seed phrase are needed").
      String.raw`${secret()}[^.!?\n]{0,30}?\b(?:is|are)\s+(?:needed|required)\b`,
    ].join('|'),
    'i',
  ),
  urgency:
    /\b(?:urgent(?:ly)?|immediately|asap|expires?\s+(?:in|soon|today|tonight)|within\s+\d+\s*(?:min(?:ute)?s?|hours?|h)\b|last\s+chance|only\s+\d+\s+(?:left|spots|remaining)|act\s+now|final\s+(?:notice|warning|call)|deadline|(?:closes|ends)\s+(?:tonight|today|soon|in\s+\d+)|before\s+(?:it\s+ends|they(?:'re|\s+are)\s+gone|the\s+pool\s+empties)|will\s+be\s+(?:lost|frozen|suspended|burned|worthless|removed|disabled))/i,
  dm_request:
    /\b(?:(?:dm|pm|inbox)\s+me|message\s+me\s+(?:privately|directly|in\s+private)|(?:ping|contact|write\s+to)\s+me\s+(?:privately|in\s+private|directly)|send\s+(?:me\s+)?a\s+(?:dm|pm|direct\s+message|private\s+message)|check\s+(?:your\s+)?(?:dms?|inbox|private\s+messages?)|(?:sent|send)\s+you\s+a\s+(?:dm|pm|private\s+message)|(?:dm|contact|message|text|reach\s+out\s+to)\s+(?:@\w+|him|her|them)|(?:contact|reach|message|text|write\s+to)\s+(?:the\s+|our\s+|an?\s+)?(?:support|admins?|mods?|moderators?|team|agents?|devs?|developers?)\s+(?:on|via|in|through|over)\s+(?:telegram|whatsapp|signal|dms?|private))\b/i,
  send_to_receive:
    /\b(?:send|sends|sending|deposit|transfer)\b[^\n]{0,90}?\b(?:get|gets|receive|receives|we\s+send\s+back|send\s+you\s+back)\b[^\n]{0,40}?(?:\b(?:double|twice|2x|x2|back|1:1|bonus|v2|automatically)\b|\d+\s*%|\d[\d.,]*\s*(?:eth|btc|usdt|usdc|sol|bnb)\b)|\b(?:send(?:ing)?\s+back|return(?:ing)?)\s+(?:2x|x2|double|twice)\b|\bdouble\s+your\s+\$?\w+|\b(?:2x|x2|double)\s+(?:btc|eth|crypto|usdt|sol|every\s+deposit)\b|\bguaranteed\s+(?:daily\s+)?(?:returns?|profits?|income)\b|\b\d{1,4}\s*%\s+(?:daily|per\s+day|a\s+day|this\s+(?:week|month))\b/i,
  support_desk:
    /\b(?:support\s+(?:ticket|team|agent|desk|server|form|bot)|(?:live|technical|tech)\s+(?:agent|chat|team|support)|help\s?desk|help\s+bot|(?:open|raise|submit)\s+a\s+ticket|ticket\s+#?\d{3,})\b/i,
  fake_verification:
    /\b(?:verify\s+(?:you(?:'re|\s+are)\s+(?:a\s+)?human|yourself)|prove\s+(?:you(?:'re|\s+are)\s+)?(?:not\s+a\s+(?:bot|robot)|(?:a\s+)?human)|(?:human|captcha|role|holder|server)\s+verification|verification\s+(?:is\s+)?(?:required|needed|bot)|complete\s+(?:the\s+)?(?:captcha|verification)|press\s+win\s*\+\s*r|paste\s+(?:the|this)\s+(?:code|command)|tap\s+verify)\b/i,
};

/** The secret material itself: phrases, words, keys, keystores. */
function secret(): string {
  return String.raw`(?:(?:seed|recovery|secret|mnemonic|backup|sync|wallet)\s*(?:phrase|words|keys?)|private\s*keys?|mnemonic|keystore|\b(?:12|24)[-\s](?:word|words)\b|seed\b(?!\s*(?:round|funding|stage|investors?))|(?<=\b(?:your|the)\s+)phrase\b|words\s+(?:from|of)\s+your\s+(?:backup|wallet))`;
}

/**
 * A negation in the same clause before a request makes it advice ("never share your seed
 * phrase", "do not connect your wallet there"); "don't forget to" and "don't wait" urge instead.
 */
const ADVICE =
  /\b(?:never|not|don'?t|do\s+not|no\s+one|nobody|won'?t|will\s+not|shouldn'?t|should\s+not)\b(?!\s+(?:forget|miss|wait|hesitate|delay))[^.,;!?\n]{0,40}$/i;

/** Wallet-ish words anywhere: what a move to private messages is about. */
const WALLET_TOPIC = new RegExp(
  String.raw`\b(?:${WALLET_NOUN}|migrat\w+|airdrops?|claim\w*|eth|btc|usdt|usdc|crypto|unstake\w*|approve|swaps?|stuck|bridg\w+)\b`,
  'i',
);

/** The lure categories a message's text matches (a request under a negation is advice). */
export function findLures(text: string): LureCategory[] {
  const found: LureCategory[] = [];
  for (const [category, pattern] of Object.entries(PATTERNS) as [LureCategory, RegExp][]) {
    const global = new RegExp(pattern.source, `${pattern.flags}g`);
    for (const match of text.matchAll(global)) {
      const before = text.slice(Math.max(0, match.index - 50), match.index);
      if (category !== 'urgency' && ADVICE.test(before)) continue;
      found.push(category);
      break;
    }
  }
  return found;
}

/** True when the text talks about a wallet, tokens, funds or claims (for `dm_request`). */
export function mentionsWallet(text: string): boolean {
  // A handle's words count too: @wallet_fixer is about a wallet.
  return WALLET_TOPIC.test(text.replaceAll('_', ' '));
}

/** Categories that are a scam's core ask, not just pressure: with an unofficial link, a warning. */
export const STRONG_LURES: ReadonlySet<LureCategory> = new Set([
  'claim_airdrop',
  'wallet_action',
  'seed_phrase',
  'send_to_receive',
  'support_desk',
  'fake_verification',
]);
