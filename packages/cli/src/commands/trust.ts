import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { SupportBreach, TrustDraft, TrustPartnerInput } from '@parley/client';
import { api } from '@parley/protocol';
import type { Command } from '../command.ts';
import { CliError, type Io, line, painter } from '../io.ts';
import { resolveTarget } from '../target.ts';
import { parseSince } from './security.ts';

/*
 * `parley trust`: run the workspace's trust operations from a terminal (docs/trust.md): show
 * the page, replace its content from a file, publish it, post the weekly status, keep the
 * partner matrix, and list SLA breaches. --json prints what the API answered.
 */

const ACTIONS = ['show', 'update', 'publish', 'unpublish', 'status', 'partner', 'breaches'];
const { PARTNER_STATUSES } = api;

function printPage(io: Io, draft: TrustDraft) {
  const p = painter(io);
  const { page } = draft;
  const c = page.content;
  line(io, p.bold(`Trust page${c.title ? `: ${c.title}` : ''}`));
  line(
    io,
    page.published
      ? `published at /trust/${page.slug} · version ${page.version}`
      : `not published${page.slug ? ` (slug ${page.slug})` : ''} · version ${page.version}`,
  );
  line(io, `last edited: ${page.updatedAt ?? 'never'}`);
  line(io, `canonical migration link: ${c.canonicalMigrationLink ?? '(none)'}`);
  line(io, `official domains: ${c.officialDomains.join(', ') || '(none)'}`);
  line(
    io,
    `brand tokens: ${c.brandTokens.join(', ') || '(none)'} · blocklist: ${c.blocklist.length} domains`,
  );
  line(io);
  line(io, p.bold(`Partners (${draft.partners.length})`));
  for (const partner of draft.partners)
    line(
      io,
      `  ${partner.name}  ${partner.kind}  ${partner.migrationStatus}  verified ${partner.lastVerifiedOn ?? 'never'}`,
    );
  line(io);
  line(io, p.bold('Weekly status'));
  if (draft.statusOverdue)
    line(
      io,
      p.yellow(
        '  overdue: the public page shows a warning until you post one (parley trust status "…")',
      ),
    );
  for (const update of draft.statusUpdates.slice(0, 3))
    line(
      io,
      `  ${update.postedAt.slice(0, 10)}  ${update.body.replace(/\s+/g, ' ').slice(0, 100)}`,
    );
}

function printBreaches(io: Io, breaches: SupportBreach[]) {
  if (breaches.length === 0) {
    line(io, 'No SLA breaches in that window.');
    return;
  }
  for (const b of breaches)
    line(
      io,
      [
        b.at,
        b.channel,
        b.priority,
        `${b.slaHours}h`,
        b.ticketId,
        b.assignee ?? 'unassigned',
        b.subject,
      ].join('  '),
    );
}

export const trustCommand: Command = {
  name: 'trust',
  summary:
    "The workspace's trust page and support SLA: show or update the page, publish it, post the weekly status, keep the partner matrix, list breaches.",
  usage:
    'parley trust show | update --file <page.json> [--note …] | publish <slug> | unpublish | status "<text>" | partner <name> <not_started|in_progress|completed|not_supported> [--kind …] [--verified YYYY-MM-DD] [--note …] | breaches [--since 7d] [--json]',
  examples: [
    'parley trust show',
    'parley trust update --file trust.json --note "new migration link"',
    'parley trust publish acme',
    'parley trust status "Week 19: swaps open on every listed exchange."',
    'parley trust partner Kraken completed --verified 2026-05-11',
    'parley trust breaches --since 7d --json',
  ],
  options: {
    file: { type: 'string' },
    note: { type: 'string' },
    kind: { type: 'string' },
    verified: { type: 'string' },
    since: { type: 'string' },
  },
  async run({ positionals, values }, io) {
    const [action, ...rest] = positionals;
    if (!action || !ACTIONS.includes(action)) throw new CliError(`Usage: ${this.usage}`, 2);
    const json = Boolean(values.json);
    const note = typeof values.note === 'string' ? values.note : undefined;
    // Check the arguments before asking the server anything.
    let content: Record<string, unknown> | undefined;
    if (action === 'update') {
      if (typeof values.file !== 'string')
        throw new CliError('Which content? parley trust update --file <page.json>', 2);
      const path = resolve(io.cwd, values.file);
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch {
        throw new CliError(`Cannot read ${path}.`, 2);
      }
      try {
        content = JSON.parse(text) as Record<string, unknown>;
      } catch (error) {
        throw new CliError(`${path} is not JSON: ${(error as Error).message}`, 2);
      }
      if (!content || typeof content !== 'object' || Array.isArray(content))
        throw new CliError(`${path} must hold one JSON object (the page content).`, 2);
    }
    if (action === 'publish' && !rest[0])
      throw new CliError('Under which slug? parley trust publish <slug> (e.g. acme)', 2);
    if (action === 'status' && !rest.join(' ').trim())
      throw new CliError('What is the update? parley trust status "<text>"', 2);
    let partner: TrustPartnerInput | undefined;
    if (action === 'partner') {
      const [name, status] = rest;
      if (!name || !status || !(PARTNER_STATUSES as readonly string[]).includes(status))
        throw new CliError(
          `Usage: parley trust partner <name> <${PARTNER_STATUSES.join('|')}> [--kind exchange] [--verified YYYY-MM-DD] [--note …]`,
          2,
        );
      if (values.verified !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(String(values.verified)))
        throw new CliError(`--verified takes a date (YYYY-MM-DD), not "${values.verified}".`, 2);
      partner = {
        name,
        migrationStatus: status as TrustPartnerInput['migrationStatus'],
        ...(typeof values.kind === 'string' ? { kind: values.kind } : {}),
        ...(typeof values.verified === 'string' ? { lastVerifiedOn: values.verified } : {}),
        ...(note !== undefined ? { note } : {}),
      };
    }
    const since = parseSince(typeof values.since === 'string' ? values.since : '7d');

    const t = await resolveTarget(values, io);
    const show = (value: unknown, human: () => void) => {
      if (json) line(io, JSON.stringify(value, null, 2));
      else human();
    };
    switch (action) {
      case 'show': {
        const draft = await t.client.trust.get(t.workspaceId);
        show(draft, () => printPage(io, draft));
        break;
      }
      case 'update': {
        const page = await t.client.trust.update(t.workspaceId, {
          content: content!,
          ...(note !== undefined ? { note } : {}),
        });
        show(page, () => line(io, `Trust page updated: version ${page.version}.`));
        break;
      }
      case 'publish':
      case 'unpublish': {
        const page = await t.client.trust.publish(
          t.workspaceId,
          action === 'publish' ? { published: true, slug: rest[0]! } : { published: false },
        );
        show(page, () =>
          line(
            io,
            page.published
              ? `Published: ${t.server}/trust/${page.slug} (JSON: ${t.server}/trust/${page.slug}.json)`
              : 'Unpublished: the public page answers 404.',
          ),
        );
        break;
      }
      case 'status': {
        const posted = await t.client.trust.postStatus(t.workspaceId, rest.join(' ').trim());
        show(posted, () => line(io, `Status update posted (${posted.postedAt}).`));
        break;
      }
      case 'partner': {
        const row = await t.client.trust.upsertPartner(t.workspaceId, partner!);
        show(row, () => line(io, `${row.name}: ${row.migrationStatus}.`));
        break;
      }
      case 'breaches': {
        const breaches = await t.client.support.breaches(t.workspaceId, { since, limit: 200 });
        show(breaches, () => printBreaches(io, breaches));
        break;
      }
    }
    return 0;
  },
};
