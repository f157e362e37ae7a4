import type { api } from '@parley/protocol';
import { type In, type Out, type Verbs, ws } from './verbs.ts';

type Status = Out<typeof api.ChannelStatusSchema>;
type Checked = Out<typeof api.ChannelCheckResponseSchema>;

/** Chat channels (docs/channels.md): their status, and a bot token's check. */
export function channelRoutes({ get, send }: Verbs) {
  return {
    channels: {
      /** As the instance that answers runs them. */
      list: (workspaceId: string) => get<Status[]>(`${ws(workspaceId)}/channels`),
      /** Who the token in a workspace secret is, as the platform says (422 when it refuses it). */
      check: (workspaceId: string, body: In<typeof api.ChannelCheckRequestSchema>) =>
        send<Checked>('POST', `${ws(workspaceId)}/channels/check`, body),
    },
  };
}
