import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { HttpProblem, notFound } from '../http/problem.ts';
import type { ChannelManager } from './manager.ts';

const Params = z.object({
  workspaceId: z.uuid(),
  agentId: z.uuid(),
  platform: z.enum(['telegram', 'slack', 'discord']),
});

/**
 * `POST /v1/channels/:workspaceId/:agentId/:platform/webhook`: where platforms deliver
 * (docs/channels.md). Public: the connector proves the call came from the platform (Telegram's
 * secret token, Slack's signature, Discord's Ed25519 signature), over the body's exact bytes,
 * so this scope keeps bodies as text. Any instance of a cluster answers.
 */
export async function channelWebhooks(app: FastifyInstance, channels: () => ChannelManager) {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      { parseAs: 'string', bodyLimit: 1024 * 1024 },
      (_r, body, done) => done(null, body),
    );
    scope.post('/v1/channels/:workspaceId/:agentId/:platform/webhook', async (request, reply) => {
      const params = Params.safeParse(request.params);
      if (!params.success) throw notFound('Channel');
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(request.headers))
        headers[name] = Array.isArray(value) ? value.join(',') : value;
      const answer = await channels().webhook(params.data, {
        headers,
        rawBody: typeof request.body === 'string' ? request.body : '',
      });
      // The platform hears the same problem+json as any caller of a refused request.
      if (answer.status === 404) throw notFound('Channel');
      if (answer.status === 401)
        throw new HttpProblem('auth.invalid_token', 'The call is not signed by the platform.');
      if (answer.status === 400)
        throw new HttpProblem('request.invalid', 'The platform’s delivery could not be read.');
      if (answer.contentType) reply.type(answer.contentType);
      return reply.code(answer.status).send(answer.body ?? null);
    });
  });
}
