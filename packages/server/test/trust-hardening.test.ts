import { readParleyEvents } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, scriptedAgent, startTestServer, type TestServer } from './support/harness.ts';

/*
 * Issue #30, "Scam-link guard", through a real server: the trust page's fields are documented
 * in the OpenAPI document, an unknown field is refused at its path with the closest field
 * suggested, a shared platform is not an official domain, and the scam guard's verdict gauge is
 * on /metrics (0) for a workspace that has no support ticket.
 */

type Problem = { code: string; errors?: { path: string; message: string }[] };

describe('trust page fields and the scam-guard gauge', () => {
  let server: TestServer;
  let call: ReturnType<typeof client>;
  let base: string;
  beforeAll(async () => {
    server = await startTestServer({ tuning: { runLingerMs: 0 } });
    call = client(server.url, server.token);
    base = `/v1/workspaces/${server.workspaceId}`;
  });
  afterAll(async () => {
    await server?.close();
  });

  it('refuses an unknown field at its path, suggesting the closest one', async () => {
    const res = await call('PUT', `${base}/trust`, {
      content: { title: 'Acme', officialLinks: ['https://acme.org/docs'] },
    });
    expect(res.status).toBe(400);
    const problem = (await res.json()) as Problem;
    expect(problem.code).toBe('request.invalid');
    expect(problem.errors).toEqual([
      {
        path: 'body.content.officialLinks',
        message: 'unknown field `officialLinks`: did you mean `canonicalLinks`?',
      },
    ]);
    const typo = (await (
      await call('PUT', `${base}/trust`, { content: { brandToken: ['acme'] } })
    ).json()) as Problem;
    expect(typo.errors?.[0]).toMatchObject({
      path: 'body.content.brandToken',
      message: expect.stringContaining('did you mean `brandTokens`?'),
    });
  });

  it('refuses a shared platform as an official domain, pointing to canonicalLinks', async () => {
    const res = await call('PUT', `${base}/trust`, {
      content: { officialDomains: ['acme.org', 'github.com'] },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Problem).errors).toEqual([
      {
        path: 'body.content.officialDomains.1',
        message: expect.stringMatching(/github\.com is a shared platform.*canonicalLinks/),
      },
    ]);
  });

  it('documents every field of the page in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${server.url}/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };
    const put = doc.paths['/v1/workspaces/{workspaceId}/trust']!.put! as {
      requestBody: {
        content: Record<
          string,
          {
            schema: {
              properties: {
                content: {
                  additionalProperties: boolean;
                  properties: Record<string, { description?: string }>;
                };
              };
            };
          }
        >;
      };
    };
    const content = put.requestBody.content['application/json']!.schema.properties.content;
    expect(content.additionalProperties).toBe(false);
    expect(Object.keys(content.properties).sort()).toEqual(
      [
        'blocklist',
        'brandTokens',
        'canonicalLinks',
        'canonicalMigrationLink',
        'handles',
        'officialDomains',
        'statements',
        'title',
      ].sort(),
    );
    for (const [field, schema] of Object.entries(content.properties))
      expect(schema.description?.length, field).toBeGreaterThan(20);
  });

  const gauge = async (workspaceId: string, verdict: string) => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const line = new RegExp(
      `^parley_scam_guard_verdicts_today\\{workspace="${workspaceId}",verdict="${verdict}"\\} (\\d+)$`,
      'm',
    ).exec(text);
    return line ? Number(line[1]) : undefined;
  };

  it('shows the verdict gauge (0) from start, without a support ticket', async () => {
    await server.app.services.trust.scheduler.check();
    expect(await gauge(server.workspaceId, 'warn')).toBe(0);
    expect(await gauge(server.workspaceId, 'block')).toBe(0);
  });

  it("counts the guard's verdicts at once and from the signals, without a ticket", async () => {
    const agent = await call('POST', `${base}/agents`, {
      definition: scriptedAgent('guarded', undefined, {
        plugins: [
          {
            name: '@parley/plugin-scam-guard',
            version: '^0.1.0',
            config: { canonicalDomains: ['acme.org'], brandTokens: ['acme'] },
          },
        ],
      }),
      deploy: true,
    });
    expect(agent.status, await agent.clone().text()).toBe(201);
    const res = await call('POST', `${base}/agents/guarded/runs`, {
      input: 'Is https://acme-rewards.example the new site?',
    });
    expect(res.status).toBe(200);
    for await (const _ of readParleyEvents(res.body!));
    expect(await gauge(server.workspaceId, 'warn')).toBe(1);
    // The next pass reads the stored signal: the same count, not twice.
    await server.app.services.trust.scheduler.check();
    expect(await gauge(server.workspaceId, 'warn')).toBe(1);
    expect(await gauge(server.workspaceId, 'block')).toBe(0);
  });
});
