import { api } from '@parley/protocol';
import { z } from 'zod';
import { HttpProblem, notFound } from '../http/problem.ts';
import { defineRoute } from '../http/route.ts';
import { withWorkspace } from './params.ts';

/*
 * Chat channels (docs/channels.md): what this instance runs of a workspace's channels, the
 * token check `parley channels connect` makes before it deploys a new entry, and where the
 * platforms deliver.
 */

const WebhookParams = z.object({
  workspaceId: z.uuid(),
  agentId: z.uuid(),
  platform: z.enum(['telegram', 'slack', 'discord']),
});

export const channelRoutes = [
  defineRoute({
    method: 'GET',
    url: '/v1/workspaces/:workspaceId/channels',
    operationId: 'listChannels',
    summary:
      'The workspace’s chat channels as this instance runs them: state, whether it holds the connection, last event, last error.',
    tag: 'agents',
    access: { kind: 'workspace', permission: 'agents:read' },
    params: withWorkspace({}),
    responses: { 200: z.array(api.ChannelStatusSchema) },
    handler: async (ctx) => ctx.services.channels.statuses(ctx.grant().workspaceId),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/workspaces/:workspaceId/channels/check',
    operationId: 'checkChannelToken',
    summary:
      'Asks the platform who the bot token in a workspace secret is (Telegram getMe, Slack auth.test, Discord users/@me).',
    tag: 'agents',
    access: { kind: 'workspace', permission: 'agents:deploy' },
    params: withWorkspace({}),
    body: api.ChannelCheckRequestSchema,
    responses: { 200: api.ChannelCheckResponseSchema },
    handler: async (ctx) => {
      const { platform, tokenSecret, apiRoot } = ctx.body;
      let bot: string | undefined;
      try {
        bot = await ctx.services.channels.check(ctx.grant().workspaceId, {
          platform,
          tokenSecret,
          ...(apiRoot ? { apiRoot } : {}),
        });
      } catch (error) {
        // The platform's own words (the token is never in them).
        throw new HttpProblem('channel.token_refused', (error as Error).message.slice(0, 300));
      }
      if (bot === undefined)
        throw new HttpProblem('request.invalid', `The secret ${tokenSecret} is not set.`, {
          errors: [{ path: 'body.tokenSecret', message: 'no such secret in this workspace' }],
        });
      return { platform, bot };
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/channels/:workspaceId/:agentId/:platform/webhook',
    operationId: 'channelWebhook',
    summary:
      'Where a chat platform delivers to an agent’s channel (Telegram updates, Slack events and interactivity, Discord interactions).',
    description:
      'Public: the connector checks the platform’s own proof over the body exactly as sent (Telegram’s secret token, Slack’s v0 signature, Discord’s Ed25519 signature) and refuses anything else with auth.invalid_token. Any instance of a cluster answers. See docs/channels.md.',
    tag: 'agents',
    access: { kind: 'public' },
    params: WebhookParams,
    rawBody: true,
    responses: { 200: z.unknown() },
    handler: async (ctx) => {
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(ctx.request.headers))
        headers[name] = Array.isArray(value) ? value.join(',') : value;
      const answer = await ctx.services.channels.webhook(ctx.params, {
        headers,
        rawBody: typeof ctx.body === 'string' ? ctx.body : '',
      });
      // The platform hears the same problem+json as any caller of a refused request.
      if (answer.status === 404) throw notFound('Channel');
      if (answer.status === 401)
        throw new HttpProblem('auth.invalid_token', 'The call is not signed by the platform.');
      if (answer.status >= 400)
        throw new HttpProblem('request.invalid', 'The platform’s delivery could not be read.');
      ctx.reply.code(answer.status);
      return answer.body ?? { ok: true };
    },
  }),
];
