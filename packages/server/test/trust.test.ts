import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readParleyEvents } from '@parley/protocol';
import { copyPgliteTemplate, createTestDatabase } from '@parley/store/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  client,
  ENGINES,
  scriptedAgent,
  startTestServer,
  type TestServer,
} from './support/harness.ts';

/*
 * Trust operations through a real server: the public trust page (HTML and JSON, escaping,
 * opt-in publication, the overdue warning), edits refused without the permission
 * (problem+json) and audited with it, the support inbox with its SLA clock driven by an
 * injected clock, breaches found by the scheduler after a restart, and the metrics.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = new Date('2026-05-04T08:00:00.000Z'); // a Monday

describe('trust page', () => {
  let server: TestServer;
  let now = T0;
  let call: ReturnType<typeof client>;
  let base: string;
  beforeAll(async () => {
    server = await startTestServer({ tuning: { now: () => now } });
    call = client(server.url, server.token);
    base = `/v1/workspaces/${server.workspaceId}`;
  });
  afterAll(async () => {
    await server?.close();
  });

  it('is 404 until published, then public as HTML and JSON, everything escaped', async () => {
    const hostile = '<script>alert("x")</script>';
    const put = await call('PUT', `${base}/trust`, {
      content: {
        title: `Acme ${hostile}`,
        officialDomains: ['acme.org'],
        handles: [{ platform: 'x', handle: '@acme"><img src=x>' }],
        canonicalMigrationLink: 'https://acme.org/migrate?a=1&b=<2>',
        statements: ['We never DM first.', `We never ask for seed phrases ${hostile}`],
        brandTokens: ['acme'],
      },
    });
    expect(put.status).toBe(200);
    expect(((await put.json()) as { version: number }).version).toBe(1);

    const hidden = await fetch(`${server.url}/trust/acme`);
    expect(hidden.status).toBe(404);
    expect(hidden.headers.get('content-type')).toMatch(/application\/problem\+json/);

    const noSlug = await call('PUT', `${base}/trust/publication`, { published: true });
    expect(noSlug.status).toBe(400);
    const published = await call('PUT', `${base}/trust/publication`, {
      published: true,
      slug: 'acme',
    });
    expect(published.status).toBe(200);

    const html = await fetch(`${server.url}/trust/acme`);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(html.headers.get('cache-control')).toBe('no-cache');
    expect(html.headers.get('content-security-policy')).toMatch(
      /default-src 'none'; style-src 'sha256-/,
    );
    const text = await html.text();
    expect(text).not.toContain('<script');
    expect(text).not.toContain('<img');
    expect(text).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(text).toContain('href="https://acme.org/migrate?a=1&amp;b=&lt;2&gt;"');
    expect(text).toContain('We never DM first.');

    for (const res of [
      await fetch(`${server.url}/trust/acme.json`),
      await fetch(`${server.url}/trust/acme`, { headers: { accept: 'application/json' } }),
    ]) {
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const doc = (await res.json()) as Record<string, unknown>;
      expect(doc).toMatchObject({
        slug: 'acme',
        version: 1,
        canonicalMigrationLink: 'https://acme.org/migrate?a=1&b=<2>',
        officialDomains: ['acme.org'],
        statusOverdue: true,
      });
      // Editors' data stays private: the blocklist and brand tokens are not published.
      expect(doc).not.toHaveProperty('brandTokens');
      expect(doc).not.toHaveProperty('blocklist');
    }
    expect((await fetch(`${server.url}/trust/unknown-slug`)).status).toBe(404);
    expect((await fetch(`${server.url}/trust/..%2Fetc`)).status).toBe(400);
  });

  it('warns when the weekly update is overdue, and not while it is fresh', async () => {
    const overdue = await (await fetch(`${server.url}/trust/acme`)).text();
    expect(overdue).toMatch(
      /role="alert"[^>]*>.*weekly status update is overdue \(none posted yet\)/s,
    );

    const posted = await call('POST', `${base}/trust/status`, {
      body: 'Week 19: <b>all</b> good.',
    });
    expect(posted.status).toBe(201);
    const fresh = await (await fetch(`${server.url}/trust/acme`)).text();
    expect(fresh).not.toContain('role="alert"');
    expect(fresh).toContain('Week 19: &lt;b&gt;all&lt;/b&gt; good.');
    expect(fresh).toContain('<time datetime="2026-05-04T08:00:00.000Z">2026-05-04</time>');

    now = new Date(T0.getTime() + 7 * DAY + 1);
    const late = await (await fetch(`${server.url}/trust/acme`)).text();
    expect(late).toMatch(/weekly status update is overdue \(last one posted <time/);
    const json = (await (await fetch(`${server.url}/trust/acme.json`)).json()) as {
      statusOverdue: boolean;
    };
    expect(json.statusOverdue).toBe(true);
    const draft = (await (await call('GET', `${base}/trust`)).json()) as { statusOverdue: boolean };
    expect(draft.statusOverdue).toBe(true);
    now = T0;
  });

  it('refuses edits without workspace:manage as problem+json, and audits every edit', async () => {
    const reader = (await (
      await call('POST', `${base}/tokens`, { name: 'reader', scopes: ['workspace:read'] })
    ).json()) as { token: string };
    const readOnly = client(server.url, reader.token);
    expect((await readOnly('GET', `${base}/trust`)).status).toBe(200);
    for (const [method, path, body] of [
      ['PUT', `${base}/trust`, { content: {} }],
      ['PUT', `${base}/trust/publication`, { published: false }],
      ['POST', `${base}/trust/status`, { body: 'x' }],
      ['PUT', `${base}/trust/partners`, { name: 'X', migrationStatus: 'completed' }],
    ] as const) {
      const res = await readOnly(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(((await res.json()) as { code: string }).code).toBe('auth.forbidden');
      const anonymous = await client(server.url)(method, path, body);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('content-type')).toMatch(/application\/problem\+json/);
    }

    const partner = await call('PUT', `${base}/trust/partners`, {
      name: 'Kraken',
      migrationStatus: 'in_progress',
      lastVerifiedOn: '2026-05-01',
    });
    expect(partner.status).toBe(200);
    const { id } = (await partner.json()) as { id: string };
    expect((await call('DELETE', `${base}/trust/partners/${id}`)).status).toBe(204);
    const audit = (await (await call('GET', `${base}/audit?limit=200`)).json()) as {
      action: string;
    }[];
    const actions = audit.map((a) => a.action);
    for (const action of [
      'trust.page_update',
      'trust.publish',
      'trust.status_post',
      'trust.partner_update',
      'trust.partner_delete',
    ])
      expect(actions, action).toContain(action);
    // Refused edits changed nothing.
    const versions = (await (await call('GET', `${base}/trust/versions`)).json()) as unknown[];
    expect(versions).toHaveLength(1);
  });

  it('gives the canonical links to the workspace agents as context, and runs still work', async () => {
    const created = await call('POST', `${base}/agents`, {
      definition: scriptedAgent('helper'),
      deploy: true,
    });
    expect(created.status).toBe(201);
    const res = await call('POST', `${base}/agents/helper/runs`, { input: 'How do I migrate?' });
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toContain('run.finish');
  });
  it("completes the scam guard's config from the page: its blocklist and canonical link", async () => {
    const updated = await call('PUT', `${base}/trust`, {
      content: {
        title: 'Acme',
        officialDomains: ['acme.org'],
        canonicalMigrationLink: 'https://acme.org/migrate',
        brandTokens: ['acme'],
        blocklist: ['acme-claim.example'],
      },
    });
    expect(updated.status).toBe(200);
    // The agent lists the guard with no config of its own: everything comes from the page.
    const created = await call('POST', `${base}/agents`, {
      definition: scriptedAgent('guarded', undefined, {
        plugins: [{ name: '@parley/plugin-scam-guard', version: '^0.1.0', config: {} }],
      }),
      deploy: true,
    });
    expect(created.status).toBe(201);
    const res = await call('POST', `${base}/agents/guarded/runs`, {
      input: 'Is https://acme-claim.example/now the migration?',
    });
    let body = '';
    for await (const event of readParleyEvents(res.body!))
      if (event.type === 'text.delta') body += event.delta;
    // The echo model shows what it was given: the flagged link replaced by the canonical one.
    expect(body).not.toContain('acme-claim.example/now');
    expect(body).toContain('the official link is https://acme.org/migrate');
    const signals = (await (
      await call('GET', `${base}/security-signals?kind=scam.link_blocked`)
    ).json()) as unknown[];
    expect(signals).toHaveLength(1);
    const metrics = (await (await call('GET', `${base}/trust/metrics`)).json()) as {
      scamVerdictsPerDay: { blocked: number }[];
    };
    expect(metrics.scamVerdictsPerDay.reduce((n, d) => n + d.blocked, 0)).toBe(1);
  });
});

describe('support inbox and SLA', () => {
  let server: TestServer;
  let now = T0;
  let call: ReturnType<typeof client>;
  let base: string;
  beforeAll(async () => {
    server = await startTestServer({ tuning: { now: () => now } });
    call = client(server.url, server.token);
    base = `/v1/workspaces/${server.workspaceId}`;
  });
  afterAll(async () => {
    await server?.close();
  });
  const at = (hours: number) => new Date(T0.getTime() + hours * HOUR);

  it('breaches at exactly 48 hours, pauses while pending, and never twice', async () => {
    now = at(0);
    const res = await call('POST', `${base}/support/tickets`, {
      subject: 'Cannot find the migration',
      channel: 'discord',
      requester: 'ann#1',
      body: 'where do I migrate?',
    });
    expect(res.status).toBe(201);
    const ticket = (await res.json()) as { id: string; firstResponseDueAt: string };
    expect(ticket.firstResponseDueAt).toBe(at(48).toISOString());

    now = new Date(at(48).getTime() - 1);
    expect(await server.app.services.trust.scheduler.check()).toEqual([]);
    now = at(48);
    const found = await server.app.services.trust.scheduler.check();
    expect(found.map((b) => [b.ticketId, b.at.toISOString()])).toEqual([
      [ticket.id, at(48).toISOString()],
    ]);
    now = at(60);
    expect(await server.app.services.trust.scheduler.check()).toEqual([]);

    // A second ticket: pending for 10 hours moves its deadline by 10 hours.
    now = at(0);
    const second = (await (
      await call('POST', `${base}/support/tickets`, {
        subject: 'Wallet question',
        channel: 'email',
        requester: 'bo@example.org',
        priority: 'high',
      })
    ).json()) as { id: string };
    now = at(1);
    const paused = (await (
      await call('PATCH', `${base}/support/tickets/${second.id}`, { status: 'pending' })
    ).json()) as { firstResponseDueAt: string | null; slaRemainingSeconds: number };
    expect(paused.firstResponseDueAt).toBeNull();
    expect(paused.slaRemainingSeconds).toBe(47 * 3600);
    now = at(11);
    const resumed = (await (
      await call('POST', `${base}/support/tickets/${second.id}/messages`, {
        direction: 'inbound',
        body: 'here is more detail',
      })
    ).json()) as { status: string; firstResponseDueAt: string };
    expect(resumed.status).toBe('open');
    expect(resumed.firstResponseDueAt).toBe(at(58).toISOString());
    now = at(57);
    expect(await server.app.services.trust.scheduler.check()).toEqual([]);
    now = at(57.5);
    const answered = (await (
      await call('POST', `${base}/support/tickets/${second.id}/messages`, { body: 'On it!' })
    ).json()) as { firstRespondedAt: string };
    expect(answered.firstRespondedAt).toBe(at(57.5).toISOString());
    now = at(100);
    expect(await server.app.services.trust.scheduler.check()).toEqual([]);

    const breaches = (await (await call('GET', `${base}/support/breaches`)).json()) as {
      ticketId: string;
      channel: string;
    }[];
    expect(breaches.map((b) => [b.ticketId, b.channel])).toEqual([[ticket.id, 'discord']]);
    const detail = (await (await call('GET', `${base}/support/tickets/${second.id}`)).json()) as {
      events: { kind: string }[];
    };
    expect(detail.events.map((e) => e.kind)).toEqual([
      'activate',
      'status',
      'pause',
      'message',
      'status',
      'activate',
      'message',
      'fulfill',
    ]);
  });

  it('opens tickets from support requests on the inbound path and threads later messages', async () => {
    now = at(200);
    const chatter = (await (
      await call('POST', `${base}/support/inbound`, {
        channel: 'telegram',
        threadId: 'chat-9',
        requester: '@cy',
        text: 'gm everyone, great community',
      })
    ).json()) as { support: boolean; ticket: unknown };
    expect(chatter).toMatchObject({ support: false, ticket: null });
    const ask = (await (
      await call('POST', `${base}/support/inbound`, {
        channel: 'telegram',
        threadId: 'chat-9',
        requester: '@cy',
        text: 'How do I migrate my tokens? The bridge is not working',
      })
    ).json()) as { support: boolean; created: boolean; ticket: { id: string } };
    expect(ask).toMatchObject({ support: true, created: true });
    const followUp = (await (
      await call('POST', `${base}/support/inbound`, {
        channel: 'telegram',
        threadId: 'chat-9',
        requester: '@cy',
        text: 'thanks',
      })
    ).json()) as { support: boolean; created: boolean; ticket: { id: string } };
    expect(followUp).toMatchObject({ support: false, created: false });
    expect(followUp.ticket.id).toBe(ask.ticket.id);
  });

  it('serves the trust metrics as JSON and on /metrics', async () => {
    now = at(210);
    const res = await call(
      'GET',
      `${base}/trust/metrics?since=${encodeURIComponent(at(-1).toISOString())}`,
    );
    expect(res.status).toBe(200);
    const m = (await res.json()) as {
      support: {
        ticketsCreated: number;
        firstResponse: { count: number; breached: number; withinSlaRatio: number };
        breachesByWeek: { week: string; channel: string; count: number }[];
        backlog: { open: number; byAgeBand: Record<string, number> };
      };
    };
    expect(m.support.ticketsCreated).toBe(3);
    expect(m.support.firstResponse).toMatchObject({ count: 1, breached: 1, withinSlaRatio: 0.5 });
    expect(m.support.breachesByWeek).toEqual([
      { week: '2026-05-04', channel: 'discord', count: 1 },
    ]);
    expect(m.support.backlog.open).toBe(3);
    expect(m.support.backlog.byAgeBand).toEqual({ '0-1d': 1, '1-3d': 0, '3-7d': 0, '>7d': 2 });

    await server.app.services.trust.scheduler.check();
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toContain(
      `parley_support_open_tickets{workspace="${server.workspaceId}",age_band=">7d"} 2`,
    );
    expect(text).toContain(
      `parley_support_within_sla_ratio{workspace="${server.workspaceId}"} 0.5`,
    );
    expect(text).toMatch(
      /parley_support_sla_breaches_total\{channel="discord",priority="normal"\} 1/,
    );
  });

  it("files end users' support requests to agents as tickets, one per conversation", async () => {
    now = at(300);
    const created = await call('POST', `${base}/agents`, {
      definition: scriptedAgent('frontdesk'),
      deploy: true,
    });
    expect(created.status).toBe(201);
    const talk = async (input: string, extra: Record<string, unknown>) => {
      const res = await call('POST', `${base}/agents/frontdesk/runs`, { input, ...extra });
      expect(res.status).toBe(200);
      let conversationId = '';
      for await (const event of readParleyEvents(res.body!))
        if (event.type === 'run.start') conversationId = event.conversationId ?? '';
      await server.app.services.trust.settled();
      return conversationId;
    };
    const agentTickets = async () =>
      (await (await call('GET', `${base}/support/tickets?channel=agent`)).json()) as {
        id: string;
        requester: string;
        externalKey: string;
      }[];

    const conversationId = await talk('gm, nice project', { userId: 'tg:42' });
    expect(await agentTickets()).toEqual([]);
    await talk('How do I migrate my tokens? The bridge is not working', {
      userId: 'tg:42',
      conversationId,
    });
    await talk('thanks, waiting', { userId: 'tg:42', conversationId });
    // The owner trying the agent (no end user) files nothing.
    await talk('How do I migrate my wallet? It is not working', {});
    const tickets = await agentTickets();
    expect(tickets).toEqual([
      expect.objectContaining({ requester: 'tg:42', externalKey: conversationId }),
    ]);
    const detail = (await (
      await call('GET', `${base}/support/tickets/${tickets[0]!.id}`)
    ).json()) as {
      events: { kind: string; body: string | null }[];
    };
    expect(detail.events.filter((e) => e.kind === 'message').map((e) => e.body)).toEqual([
      'How do I migrate my tokens? The bridge is not working',
      'thanks, waiting',
    ]);
    // The agent's replies are not the first response: a person still owes one.
    expect(detail.events.map((e) => e.kind)).not.toContain('fulfill');
  });
});

describe.each(ENGINES)('SLA breaches after a restart [%s]', (engine) => {
  it('are found by the check the next server runs when it starts', async () => {
    const database =
      engine === 'postgres'
        ? await createTestDatabase('trust_restart', { migrated: true })
        : undefined;
    const dataDir = await mkdtemp(join(tmpdir(), 'parley-trust-restart-'));
    // A migrated PGlite database to start from (the store's test templates), not initdb.
    if (engine === 'pglite') await copyPgliteTemplate(dataDir);
    const reuse = { dataDir, ...(database ? { database } : {}) };
    let ticketId = '';
    const first = await startTestServer({
      engine,
      reuse,
      keepDatabase: true,
      tuning: { now: () => T0 },
    });
    try {
      const res = await client(first.url, first.token)(
        'POST',
        `/v1/workspaces/${first.workspaceId}/support/tickets`,
        { subject: 'Help', requester: 'dee', channel: 'github' },
      );
      ticketId = ((await res.json()) as { id: string }).id;
    } finally {
      await first.close();
    }
    // Down for three days; the next server's clock says so.
    const second = await startTestServer({
      engine,
      reuse,
      tuning: { now: () => new Date(T0.getTime() + 3 * DAY) },
    });
    try {
      const call = client(second.url, second.token);
      await vi.waitFor(
        async () => {
          const list = (await (
            await call('GET', `/v1/workspaces/${second.workspaceId}/support/breaches`)
          ).json()) as { ticketId: string; at: string }[];
          expect(list).toEqual([
            expect.objectContaining({
              ticketId,
              at: new Date(T0.getTime() + 48 * HOUR).toISOString(),
            }),
          ]);
        },
        { timeout: 20_000, interval: 100 },
      );
    } finally {
      await second.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
