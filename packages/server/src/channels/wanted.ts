import { createHash } from 'node:crypto';
import { ChannelListSchema, type ChannelRef } from '@parley/core';
import type { WorkspaceScope } from '@parley/store';
import type { ChannelTarget } from './conversation.ts';

/* What a workspace's deployed agents ask for: their channels, with the secrets they name. */

export interface WantedChannel {
  target: ChannelTarget;
  ref: ChannelRef;
  token?: string;
  signing?: string;
}

/** The channels a workspace's deployed agents list, with the secrets they name. */
export async function wantedChannels(ws: WorkspaceScope): Promise<WantedChannel[]> {
  const found: WantedChannel[] = [];
  for (const agent of await ws.agents.list()) {
    if (!agent.currentVersion) continue;
    const version = await ws.agents.getVersion(agent.id);
    const parsed = ChannelListSchema.safeParse(version?.definition?.channels ?? []);
    if (!parsed.success) continue;
    for (const ref of parsed.data) {
      const reveal = async (name: string | undefined) =>
        name && (await ws.secrets.get(name))
          ? ws.secrets.reveal(name, { purpose: 'channel' })
          : undefined;
      found.push({
        target: { workspaceId: ws.workspaceId, agentId: agent.id, platform: ref.platform },
        ref,
        token: await reveal(ref.tokenSecret),
        signing: await reveal(ref.signingSecret),
      });
    }
  }
  return found;
}

/** What a channel is opened with, hashed: a change (config, token) opens it anew. */
export function fingerprintOf(want: WantedChannel): string {
  return createHash('sha256')
    .update(JSON.stringify([want.ref, want.token ?? null, want.signing ?? null]))
    .digest('hex');
}
