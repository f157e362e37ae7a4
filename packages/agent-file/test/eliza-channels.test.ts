import { describe, expect, it } from 'vitest';
import { importElizaCharacter } from '../src/index.ts';

/* ElizaOS `clients` become `channels` entries (docs/channels.md). */

describe('ElizaOS clients', () => {
  it('become channels with the secrets to set; a platform without a connector is named', () => {
    const result = importElizaCharacter({
      name: 'Ada',
      bio: ['Helps the community.'],
      modelProvider: 'openai',
      clients: ['telegram', 'slack', 'twitter', 'Telegram'],
      settings: { secrets: { SLACK_BOT_TOKEN: 'xoxb-not-imported' } },
    });
    expect(result.agent.channels).toEqual([
      {
        platform: 'telegram',
        tokenSecret: 'TELEGRAM_BOT_TOKEN',
        mode: 'polling',
        mentionsOnly: true,
      },
      {
        platform: 'slack',
        tokenSecret: 'SLACK_BOT_TOKEN',
        signingSecret: 'SLACK_SIGNING_SECRET',
        mode: 'webhook',
        mentionsOnly: true,
      },
    ]);
    const secrets = Object.fromEntries(result.secretsToSet.map((s) => [s.name, s.reason]));
    expect(secrets.TELEGRAM_BOT_TOKEN).toBe(
      "the telegram bot's token (channels[0].tokenSecret); not in the character file",
    );
    expect(secrets.SLACK_BOT_TOKEN).toBe(
      "the slack bot's token (channels[1].tokenSecret); found in settings.secrets.SLACK_BOT_TOKEN, value not imported",
    );
    expect(secrets.SLACK_SIGNING_SECRET).toMatch(/^the slack app's signing secret/);
    expect(result.warnings).toContain(
      'ElizaOS clients (twitter) were not imported: Parley has channels for telegram, discord, slack',
    );
    expect(JSON.stringify(result)).not.toContain('xoxb-not-imported');
  });
});
