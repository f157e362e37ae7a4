import { createHash } from 'node:crypto';
import type { Principal } from '../auth/principal.ts';
import { startedByOf, userIdOf } from '../auth/principal.ts';

/**
 * The Parley conversation a client's own conversation id names (an AI SDK chat id, an A2A
 * contextId the client chose): one per id, agent, workspace and user, the same on every call
 * and every instance, so no table maps them. A UUID (version 8, RFC 9562) of a SHA-256 of
 * those; the user is the person behind the caller (a token's creator), or the token itself,
 * and the end user the caller names (`userId`) when it names one.
 */
export function conversationIdFor(key: {
  kind: 'chat' | 'a2a' | 'channel';
  workspaceId: string;
  agentId: string;
  principal: Principal;
  endUserId?: string;
  clientId: string;
}): string {
  const owner = userIdOf(key.principal) ?? startedByOf(key.principal);
  const hash = createHash('sha256')
    .update(
      JSON.stringify([
        key.kind,
        key.workspaceId,
        key.agentId,
        owner,
        key.endUserId ?? null,
        key.clientId,
      ]),
    )
    .digest();
  hash[6] = (hash[6]! & 0x0f) | 0x80;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
