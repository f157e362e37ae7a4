import type { Connector } from '@parley/core';
import { discordConnector } from './discord/connector.ts';
import { slackConnector } from './slack/connector.ts';
import { telegramConnector } from './telegram/connector.ts';

/** The first-party connectors (tier core), by the platform agent.yaml names. */
export const FIRST_PARTY_CONNECTORS: ReadonlyMap<string, Connector> = new Map(
  [telegramConnector, slackConnector, discordConnector].map((c) => [c.platform!, c]),
);
