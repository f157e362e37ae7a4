import type { AuditEvent, SecurityReport } from '@parley/client';
import { CliError, type Io, line, painter } from '../io.ts';
import type { Target } from '../target.ts';

/*
 * `parley security`'s reading side: the audit log since a time (paged), the report of a
 * workspace's signals and events as text, and the small parsers they share.
 */

/** The API takes times in the years 1–9999 (PostgreSQL has no year 0). */
const FIRST = Date.parse('0001-01-01T00:00:00Z');
const LAST = Date.parse('9999-12-31T23:59:59Z');
const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `--since 24h|7d|30m|2w` or an ISO 8601 time, as the ISO timestamp the API takes. */
export function parseSince(value: string, now = Date.now()): string {
  const relative = /^(\d{1,6})([mhdw])$/.exec(value.trim());
  const iso =
    /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;
  // A duration reaches back past year 1 too (999999w): both are checked against the range.
  const time = relative
    ? now - Number(relative[1]) * UNITS[relative[2]!]!
    : iso.test(value.trim())
      ? Date.parse(value.trim())
      : Number.NaN;
  if (Number.isNaN(time) || time < FIRST || time > LAST)
    throw new CliError(
      `--since takes a duration (30m, 24h, 7d, 2w) or an ISO 8601 time (2025-01-31T09:00:00Z), not "${value}".`,
      2,
    );
  return new Date(time).toISOString();
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A member's id from `--user <email or id>` (an id is taken as it is: a former member's too). */
export async function userIdOf(t: Target, user: string): Promise<{ id: string; label: string }> {
  if (UUID.test(user)) return { id: user.toLowerCase(), label: user };
  const members = await t.client.members.list(t.workspaceId);
  const found = members.find((m) => m.email.toLowerCase() === user.toLowerCase());
  if (!found)
    throw new CliError(
      `No member of workspace ${t.workspaceId} has the email ${user} (a former member: pass their user id).`,
    );
  return { id: found.userId, label: found.email };
}

/** The API's largest page. */
export const PAGE = 200;

/**
 * Every audit event of the workspace since `since` (and of one action), newest first, each
 * once: paged by the last event's id (`beforeId`), so the events of one transaction, which
 * share their time, are neither repeated nor skipped at a page boundary.
 */
export async function* auditEventsSince(
  t: Pick<Target, 'client' | 'workspaceId'>,
  since: string,
  options: { action?: string } = {},
): AsyncGenerator<AuditEvent> {
  const from = Date.parse(since);
  let beforeId: string | undefined;
  for (;;) {
    const page = await t.client.audit.list(t.workspaceId, {
      limit: PAGE,
      ...(options.action ? { action: options.action } : {}),
      ...(beforeId ? { beforeId } : {}),
    });
    for (const event of page) {
      if (Date.parse(event.at) < from) return;
      yield event;
    }
    if (page.length < PAGE) return;
    beforeId = page.at(-1)!.id;
  }
}

export function auditLine(e: AuditEvent): string {
  const who = (type: string | null, id: string | null) =>
    type ? (id ? `${type}:${id}` : type) : (id ?? '-');
  return [
    e.at,
    e.action,
    e.outcome,
    who(e.actorType, e.actorId),
    who(e.targetType, e.targetId),
    e.ip ?? '-',
  ].join('  ');
}

export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function printReport(io: Io, workspaceId: string, r: SecurityReport) {
  const p = painter(io);
  const rows = (entries: [string, number][]) => {
    const width = Math.max(0, ...entries.map(([k]) => k.length));
    for (const [k, n] of entries) line(io, `  ${k.padEnd(width)}  ${n}`);
  };
  line(io, p.bold(`Security report: workspace ${workspaceId}`));
  line(io, p.dim(`${r.since} → ${r.until}`));
  line(io);
  const s = r.signals;
  line(
    io,
    `${p.bold('Signals')}: ${s.total} (${s.unacknowledged} unacknowledged): ${s.bySeverity.critical} critical, ${s.bySeverity.warning} warning, ${s.bySeverity.info} info`,
  );
  rows(Object.entries(s.byKind).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
  line(io);
  const a = r.audit;
  line(io, `${p.bold('Audited actions')}: ${a.total} (${a.denied} denied)`);
  rows([
    ['tokens created', a.tokensCreated],
    ['tokens revoked', a.tokensRevoked],
    ['secret writes', a.secretWrites],
    ['secret decryptions', a.secretDecrypts],
    ['role changes', a.roleChanges],
    ['members added', a.membersAdded],
    ['members removed', a.membersRemoved],
    ['denied plugin accesses', a.pluginDenials],
  ]);
  line(io);
  line(io, p.bold('Tokens used from new addresses'));
  if (r.tokensFromNewAddresses.length === 0) line(io, p.dim('  (none)'));
  for (const t of r.tokensFromNewAddresses)
    line(
      io,
      `  ${t.name ?? '(deleted token)'} ${p.dim(`${t.prefix ?? ''} ${t.tokenId}`)}: ${t.addresses.join(', ')} (${t.times}×, last ${t.lastAt})`,
    );
  line(io);
  line(io, p.bold('Top addresses'));
  if (r.topAddresses.length === 0) line(io, p.dim('  (none)'));
  const width = Math.max(0, ...r.topAddresses.map((x) => x.ip.length));
  for (const x of r.topAddresses)
    line(
      io,
      `  ${x.ip.padEnd(width)}  ${plural(x.auditEvents, 'audit event')}, ${plural(x.signals, 'signal')}`,
    );
  if (r.truncated)
    line(
      io,
      p.yellow('\nThe window held more than the report reads: the counts are lower bounds.'),
    );
}
