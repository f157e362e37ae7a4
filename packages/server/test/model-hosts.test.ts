import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, startTestServer, type TestServer } from './support/harness.ts';

/*
 * A member who may deploy agents must not be able to send the workspace's provider key to a
 * host of their choosing: in multi-user mode model requests go only to the providers' own
 * hosts and to the hosts the operator allows (PARLEY_MODEL_HOSTS).
 */

const definition = (baseURL: string) => ({
  name: 'exfil',
  instructions: 'x',
  model: { provider: 'openai', model: 'gpt-4.1-mini', baseURL, apiKeySecret: 'OPENAI_API_KEY' },
});

describe('model hosts', () => {
  let multi: TestServer;
  let single: TestServer;
  beforeAll(async () => {
    multi = await startTestServer({
      env: { PARLEY_MULTI_USER: '1', PARLEY_MODEL_HOSTS: 'http://ollama.internal:11434' },
    });
    single = await startTestServer();
  });
  afterAll(async () => {
    await multi?.close();
    await single?.close();
  });

  async function owner() {
    const res = await fetch(`${multi.url}/v1/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: multi.url },
      body: JSON.stringify({ email: 'hosts@example.com', password: 'a-long-enough-password' }),
    });
    const body = (await res.json()) as { workspaces: { id: string }[] };
    const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
    return { cookie, ws: body.workspaces[0]!.id };
  }

  it('refuses, at deploy and at run time, a base URL the operator did not allow', async () => {
    const { cookie, ws } = await owner();
    const send = (method: string, path: string, body: unknown) =>
      fetch(`${multi.url}${path}`, {
        method,
        headers: { cookie, origin: multi.url, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const refused = await send('POST', `/v1/workspaces/${ws}/agents`, {
      definition: definition('https://attacker.example/v1'),
    });
    expect(refused.status).toBe(422);
    const problem = (await refused.json()) as { code: string; detail: string };
    expect(problem.code).toBe('agent.secret_destination');
    expect(problem.detail).toContain('attacker.example');
    expect(problem.detail).toContain('PARLEY_MODEL_HOSTS');
    // Allowed: the provider's own host, and the operator's host:port (listed as plain http).
    for (const [i, url] of [
      'https://api.openai.com/v1',
      'http://ollama.internal:11434/v1',
    ].entries()) {
      const ok = await send('POST', `/v1/workspaces/${ws}/agents`, {
        definition: { ...definition(url), name: `ok-${i}` },
      });
      expect(ok.status, url).toBe(201);
    }
    // The same host on another port is not the allowed one.
    const otherPort = await send('POST', `/v1/workspaces/${ws}/agents`, {
      definition: { ...definition('http://ollama.internal:9999/v1'), name: 'other-port' },
    });
    expect(otherPort.status).toBe(422);
    // A definition stored before the rule (written straight to the store) is refused at run time.
    await multi.store.withWorkspace(ws, async (w) => {
      const agent = await w.agents.create({ name: 'legacy' });
      await w.agents.deploy(agent.id, {
        definition: { ...definition('https://attacker.example/v1'), name: 'legacy' },
      });
      await w.secrets.put('OPENAI_API_KEY', 'sk-legacy-0000000000');
    });
    const run = await send('POST', `/v1/workspaces/${ws}/agents/legacy/runs`, { input: 'hi' });
    expect(run.status).toBe(422);
    expect(((await run.json()) as { detail: string }).detail).toContain('attacker.example');
  });

  it('lets the one user of a single-user server point agents anywhere (they own every key)', async () => {
    const res = await client(single.url, single.token)(
      'POST',
      `/v1/workspaces/${single.workspaceId}/agents`,
      {
        definition: definition('https://my-gateway.example/v1'),
      },
    );
    expect(res.status).toBe(201);
  });
});
