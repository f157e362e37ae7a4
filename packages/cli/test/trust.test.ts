import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createParleyClient } from '@parley/client';
import { startTestServer, type TestServer } from '@parley/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parley, testIo } from './support/io.ts';

/*
 * `parley trust` in process against a real server: update the page from a file, publish it
 * (the public page then answers), post the weekly status, set a partner row, show it all
 * (human and --json), list breaches found by the server's SLA check, and refuse bad arguments
 * before calling the server.
 */

const T0 = new Date('2026-05-04T08:00:00.000Z');

describe('parley trust', () => {
  let server: TestServer;
  let now = T0;
  const env = () => ({ PARLEY_SERVER: server.url, PARLEY_TOKEN: server.token });
  beforeAll(async () => {
    server = await startTestServer({ tuning: { now: () => now } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('updates, publishes, posts the status, keeps partners and shows the page', async () => {
    const io = await testIo({ env: env() });
    const file = join(io.cwd, 'trust.json');
    await writeFile(
      file,
      JSON.stringify({
        title: 'Acme',
        officialDomains: ['acme.org'],
        canonicalMigrationLink: 'https://acme.org/migrate',
        statements: ['We never DM first.'],
        brandTokens: ['acme'],
      }),
    );
    const updated = await parley(
      ['trust', 'update', '--file', 'trust.json', '--note', 'first'],
      io,
    );
    expect(updated.stderr).toBe('');
    expect(updated.stdout).toContain('Trust page updated: version 1.');

    const published = await parley(['trust', 'publish', 'acme'], io);
    expect(published.code).toBe(0);
    expect(published.stdout).toContain(`${server.url}/trust/acme`);
    expect((await fetch(`${server.url}/trust/acme`)).status).toBe(200);

    expect((await parley(['trust', 'status', 'Week 19: all', 'good.'], io)).code).toBe(0);
    const partner = await parley(
      ['trust', 'partner', 'Kraken', 'completed', '--verified', '2026-05-01'],
      io,
    );
    expect(partner.stdout).toContain('Kraken: completed.');

    const shown = await parley(['trust', 'show'], io);
    expect(shown.stdout).toContain('published at /trust/acme · version 1');
    expect(shown.stdout).toContain('canonical migration link: https://acme.org/migrate');
    expect(shown.stdout).toMatch(/Kraken\s+exchange\s+completed\s+verified 2026-05-01/);
    expect(shown.stdout).toContain('2026-05-04  Week 19: all good.');
    expect(shown.stdout).not.toContain('overdue');

    const json = JSON.parse((await parley(['trust', 'show', '--json'], io)).stdout) as {
      page: { version: number; published: boolean };
      statusOverdue: boolean;
    };
    expect(json).toMatchObject({ page: { version: 1, published: true }, statusOverdue: false });

    now = new Date(T0.getTime() + 8 * 86_400_000);
    expect((await parley(['trust', 'show'], io)).stdout).toContain('overdue');
    now = T0;
    expect((await parley(['trust', 'unpublish'], io)).code).toBe(0);
    expect((await fetch(`${server.url}/trust/acme`)).status).toBe(404);
  });

  it('lists the breaches the SLA check found, as lines and as JSON', async () => {
    const owner = createParleyClient({ baseUrl: server.url, token: server.token });
    now = T0;
    const ticket = await owner.support.create(server.workspaceId, {
      subject: 'Bridge stuck',
      requester: 'ann',
      channel: 'discord',
    });
    now = new Date(T0.getTime() + 49 * 3_600_000);
    await server.app.services.trust.scheduler.check();
    const io = await testIo({ env: env() });
    const since = T0.toISOString();
    const human = await parley(['trust', 'breaches', '--since', since], io);
    expect(human.stdout).toContain(
      `${new Date(T0.getTime() + 48 * 3_600_000).toISOString()}  discord  normal  48h  ${ticket.id}  unassigned  Bridge stuck`,
    );
    const json = JSON.parse(
      (await parley(['trust', 'breaches', '--since', since, '--json'], io)).stdout,
    ) as { ticketId: string }[];
    expect(json.map((b) => b.ticketId)).toEqual([ticket.id]);
  });

  it('refuses bad arguments with a message that says what to do', async () => {
    const io = await testIo({ env: env() });
    const cases: [string[], RegExp][] = [
      [['trust'], /Usage: parley trust/],
      [['trust', 'update'], /--file <page.json>/],
      [['trust', 'update', '--file', 'missing.json'], /Cannot read/],
      [['trust', 'publish'], /parley trust publish <slug>/],
      [['trust', 'status'], /What is the update/],
      [
        ['trust', 'partner', 'Kraken', 'done'],
        /not_started\|in_progress\|completed\|not_supported/,
      ],
      [['trust', 'partner', 'Kraken', 'completed', '--verified', 'May'], /YYYY-MM-DD/],
      [['trust', 'breaches', '--since', 'yesterday'], /--since takes a duration/],
    ];
    for (const [argv, message] of cases) {
      const result = await parley(argv, io);
      expect(result.code, argv.join(' ')).toBe(2);
      expect(result.stderr, argv.join(' ')).toMatch(message);
    }
    await writeFile(join(io.cwd, 'bad.json'), '{ not json');
    const bad = await parley(['trust', 'update', '--file', 'bad.json'], io);
    expect(bad.stderr).toMatch(/is not JSON/);
    // A content the server refuses: its problem names the field.
    await writeFile(
      join(io.cwd, 'http.json'),
      JSON.stringify({ canonicalMigrationLink: 'http://acme.org/' }),
    );
    const refused = await parley(['trust', 'update', '--file', 'http.json'], io);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/canonicalMigrationLink/);
  });
});
