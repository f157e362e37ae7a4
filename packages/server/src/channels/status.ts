import type { ChannelMode } from '@parley/core';
import type { ChannelTarget } from './conversation.ts';

/** What `parley channels status` and the dashboard show of one channel on this instance. */
export interface ChannelStatusSnapshot {
  agentId: string;
  platform: string;
  mode: ChannelMode;
  state: 'starting' | 'connected' | 'standby' | 'error' | 'paused';
  /** This instance holds the channel's connection (polling, gateway) or its webhook registration. */
  listening: boolean;
  lastEventAt: string | null;
  lastError: string | null;
}

export function createStatus(target: ChannelTarget, mode: ChannelMode) {
  let state: ChannelStatusSnapshot['state'] = 'starting';
  let listening = false;
  let lastEventAt: Date | null = null;
  let lastError: string | null = null;
  return {
    report(update: { state: 'connected' | 'error'; error?: string }) {
      state = update.state;
      if (update.error) lastError = update.error.slice(0, 500);
    },
    listening(on: boolean) {
      listening = on;
      if (!on && state === 'connected') state = 'standby';
    },
    event() {
      lastEventAt = new Date();
    },
    snapshot(): ChannelStatusSnapshot {
      return {
        agentId: target.agentId,
        platform: target.platform,
        mode,
        state,
        listening,
        lastEventAt: lastEventAt?.toISOString() ?? null,
        lastError,
      };
    },
  };
}
export type ChannelStatus = ReturnType<typeof createStatus>;

/** A channel its entry pauses: listed, not opened. */
export function pausedStatus(target: ChannelTarget, mode: ChannelMode): ChannelStatusSnapshot {
  return {
    agentId: target.agentId,
    platform: target.platform,
    mode,
    state: 'paused',
    listening: false,
    lastEventAt: null,
    lastError: null,
  };
}
