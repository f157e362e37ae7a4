import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, startTestServer, type TestServer } from './support/harness.ts';

/*
 * The hot path keeps a few things in memory (token checks, decrypted model keys). A change
 * must take effect at once on the server that made it: a revoked token, a demoted member's
 * token, a replaced provider key.
 */

describe('caches never outlive a change', () => {
  let server: TestServer;
  let provider: Server;
  const keysSeen: string[] = [];

  beforeAll(async () => {
    server = await startTestServer({
      env: { PARLEY_MULTI_USER: '1', PARLEY_MODEL_HOSTS: 'http://127.0.0.1' },
    });
    // A minimal OpenAI-compatible stand-in that records the key it was called with.
    provider = createServer((req, res) => {
      keysSeen.push(req.headers.authorization ?? '');
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const chunk = (delta: object, finish: string | null) =>
          `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
        res.end(
          `${chunk({ role: 'assistant', content: 'ok' }, null)}${chunk({}, 'stop')}data: [DONE]\n\n`,
        );
      });
    });
    await new Promise<void>((r) => provider.listen(0, '127.0.0.1', () => r()));
  });
  afterAll(async () => {
    await server?.close();
    await new Promise((r) => provider?.close(r));
  });

  async function signUp(email: string) {
    const res = await fetch(`${server.url}/v1/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: server.url },
      body: JSON.stringify({ email, password: 'a-long-enough-password' }),
    });
    const body = (await res.json()) as { user: { id: string }; workspaces: { id: string }[] };
    return {
      cookie: res.headers.get('set-cookie')!.split(';')[0]!,
      userId: body.user.id,
      workspaceId: body.workspaces[0]!.id,
    };
  }
  const withCookie = (cookie: string) => (method: string, path: string, body?: unknown) =>
    fetch(`${server.url}${path}`, {
      method,
      headers: {
        cookie,
        origin: server.url,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });

  it('a revoked token and a demoted member’s token lose their rights on the next request', async () => {
    // An admin mints a token, is demoted to viewer: the token narrows with them at once.
    const owner = await signUp('owner@cache.test');
    const dev = await signUp('dev@cache.test');
    const asOwner = withCookie(owner.cookie);
    const asDev = withCookie(dev.cookie);
    const invite = (await (
      await asOwner('POST', `/v1/workspaces/${owner.workspaceId}/invitations`, {
        email: 'dev@cache.test',
        role: 'admin',
      })
    ).json()) as { token: string };
    expect((await asDev('POST', '/v1/invitations/accept', { token: invite.token })).status).toBe(
      200,
    );
    const created = (await (
      await asDev('POST', `/v1/workspaces/${owner.workspaceId}/tokens`, {
        name: 'dev',
        scopes: ['agents:read', 'agents:write'],
      })
    ).json()) as { token: string; info: { id: string } };
    expect(created.token).toMatch(/^prl_/);
    const call = client(server.url, created.token);
    const definition = {
      name: 'cached',
      instructions: 'x',
      model: { provider: 'scripted', model: 'm' },
    };
    expect((await call('GET', `/v1/workspaces/${owner.workspaceId}/agents`)).status).toBe(200);
    expect(
      (await call('POST', `/v1/workspaces/${owner.workspaceId}/agents`, { definition })).status,
    ).toBe(201);
    await asOwner('PUT', `/v1/workspaces/${owner.workspaceId}/members/${dev.userId}/role`, {
      role: 'viewer',
    });
    const demoted = await call('POST', `/v1/workspaces/${owner.workspaceId}/agents`, {
      definition: { ...definition, name: 'cached-2' },
    });
    expect(demoted.status).toBe(403);
    expect((await call('GET', `/v1/workspaces/${owner.workspaceId}/agents`)).status).toBe(200);
    await asOwner('DELETE', `/v1/workspaces/${owner.workspaceId}/tokens/${created.info.id}`);
    const revoked = await call('GET', `/v1/workspaces/${owner.workspaceId}/agents`);
    expect(revoked.status).toBe(401);
  });

  it('a replaced provider key is used by the very next run', async () => {
    const owner = await signUp('keys@cache.test');
    const asOwner = withCookie(owner.cookie);
    const { port } = provider.address() as AddressInfo;
    await asOwner('PUT', `/v1/workspaces/${owner.workspaceId}/secrets/PROVIDER_KEY`, {
      value: 'sk-first-1111111111',
    });
    await asOwner('POST', `/v1/workspaces/${owner.workspaceId}/agents`, {
      definition: {
        name: 'keyed',
        instructions: 'x',
        model: {
          provider: 'openai-compatible',
          model: 'm',
          baseURL: `http://127.0.0.1:${port}/v1`,
          apiKeySecret: 'PROVIDER_KEY',
        },
        memory: { enabled: false, autoExtract: false },
      },
      deploy: true,
    });
    const run = () =>
      fetch(`${server.url}/v1/workspaces/${owner.workspaceId}/agents/keyed/runs`, {
        method: 'POST',
        headers: {
          cookie: owner.cookie,
          origin: server.url,
          'content-type': 'application/json',
          accept: 'application/json',
        },
        body: JSON.stringify({ input: 'hi' }),
      }).then((r) => r.json());
    await run();
    await run();
    await asOwner('PUT', `/v1/workspaces/${owner.workspaceId}/secrets/PROVIDER_KEY`, {
      value: 'sk-second-2222222222',
    });
    await run();
    expect(keysSeen.slice(-3)).toEqual([
      'Bearer sk-first-1111111111',
      'Bearer sk-first-1111111111',
      'Bearer sk-second-2222222222',
    ]);
    const audit = (await (
      await asOwner('GET', `/v1/workspaces/${owner.workspaceId}/audit?action=secret.decrypt`)
    ).json()) as unknown[];
    // Two decryptions for three runs: the second run reused the first run's key.
    expect(audit).toHaveLength(2);
  });
});
