import { createHash } from 'node:crypto';
import type { api } from '@parley/protocol';
import type { TrustPage, TrustPartner, TrustStatusUpdate } from '@parley/store';

/*
 * The public trust page: one JSON document and its HTML rendering. The HTML is small,
 * server-rendered, needs no script and escapes every value it prints (the page's content is
 * written by workspace admins, and a compromised admin account is exactly the threat a trust
 * page exists for).
 */

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#111}' +
  '.warning{background:#fff3cd;border:2px solid #b45309;padding:.75rem}' +
  'table{border-collapse:collapse;width:100%}th,td{border:1px solid #999;padding:.35rem;text-align:left}' +
  '.canonical{font-size:1.2rem;border:2px solid #1d4ed8;padding:.75rem}';

/** The page's policy: its one inline style (by hash), nothing else, no framing. */
export const TRUST_PAGE_CSP = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`;

/** A weekly update older than this is overdue, and the page says so. */
export const STATUS_OVERDUE_MS = 7 * 86_400_000;

/** The published page as JSON: protocol's shape (the client reads it typed). */
export type PublicTrustDocument = api.PublicTrustDocument;

export function publicTrustDocument(input: {
  slug: string;
  page: TrustPage;
  partners: readonly TrustPartner[];
  statusUpdates: readonly TrustStatusUpdate[];
  now: Date;
}): PublicTrustDocument {
  const { page, partners, statusUpdates, now } = input;
  const lastStatus = statusUpdates[0]?.postedAt ?? null;
  const times = [page.updatedAt, lastStatus, ...partners.map((p) => p.updatedAt)].filter(
    (t): t is Date => t instanceof Date,
  );
  const lastUpdated = times.length
    ? new Date(Math.max(...times.map((t) => t.getTime()))).toISOString()
    : null;
  return {
    slug: input.slug,
    title: page.content.title,
    version: page.version,
    lastUpdated,
    officialDomains: page.content.officialDomains,
    handles: page.content.handles,
    canonicalMigrationLink: page.content.canonicalMigrationLink,
    canonicalLinks: page.content.canonicalLinks,
    statements: page.content.statements,
    partners: partners.map((p) => ({
      name: p.name,
      kind: p.kind,
      migrationStatus: p.migrationStatus,
      lastVerifiedOn: p.lastVerifiedOn,
      note: p.note,
    })),
    statusUpdates: statusUpdates.map((s) => ({
      postedAt: s.postedAt.toISOString(),
      body: s.body,
    })),
    statusOverdue: !lastStatus || now.getTime() - lastStatus.getTime() > STATUS_OVERDUE_MS,
    lastStatusAt: lastStatus?.toISOString() ?? null,
  };
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** HTML-escapes text for element content and double-quoted attributes. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const STATUS_LABELS: Record<string, string> = {
  not_started: 'Not started',
  in_progress: 'In progress',
  completed: 'Completed',
  not_supported: 'Not supported',
};

function link(url: string): string {
  // Only https URLs are stored (the store validates them); escape anyway.
  const safe = escapeHtml(url);
  return `<a href="${safe}" rel="noopener noreferrer">${safe}</a>`;
}

function list(items: string[]): string {
  return items.length
    ? `<ul>${items.map((i) => `<li>${i}</li>`).join('')}</ul>`
    : '<p>None listed.</p>';
}

function day(iso: string): string {
  return `<time datetime="${escapeHtml(iso)}">${escapeHtml(iso.slice(0, 10))}</time>`;
}

/** The page as HTML: headings, lists and one table, readable without CSS or script. */
export function renderTrustHtml(doc: PublicTrustDocument): string {
  const title = doc.title || doc.slug;
  const e = escapeHtml;
  const overdue = doc.statusOverdue
    ? `<p role="alert" class="warning"><strong>Warning:</strong> the weekly status update is overdue (${
        doc.lastStatusAt ? `last one posted ${day(doc.lastStatusAt)}` : 'none posted yet'
      }). Be extra careful with any link you did not find on this page.</p>`
    : '';
  const partners = doc.partners.length
    ? `<table><caption>Exchanges and partners</caption><thead><tr><th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Migration status</th><th scope="col">Last verified</th><th scope="col">Note</th></tr></thead><tbody>${doc.partners
        .map(
          (p) =>
            `<tr><th scope="row">${e(p.name)}</th><td>${e(p.kind)}</td><td>${e(STATUS_LABELS[p.migrationStatus] ?? p.migrationStatus)}</td><td>${p.lastVerifiedOn ? day(p.lastVerifiedOn) : 'not verified'}</td><td>${e(p.note ?? '')}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '<p>No partners listed.</p>';
  const updates = doc.statusUpdates.length
    ? doc.statusUpdates
        .map((s) => `<article><h3>${day(s.postedAt)}</h3><p>${e(s.body)}</p></article>`)
        .join('')
    : '<p>No status updates yet.</p>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)}: safety and migration</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${e(title)}: safety and migration</h1>
<p>Last updated: ${doc.lastUpdated ? day(doc.lastUpdated) : 'never'} · version ${doc.version}</p>
${overdue}
<section aria-labelledby="migration"><h2 id="migration">The one migration link</h2>
${doc.canonicalMigrationLink ? `<p class="canonical">${link(doc.canonicalMigrationLink)}</p><p>Any other migration link is not ours.</p>` : '<p>There is no migration link. Anyone who sends you one is not us.</p>'}
</section>
<section aria-labelledby="statements"><h2 id="statements">What we never do</h2>${list(doc.statements.map(e))}</section>
<section aria-labelledby="domains"><h2 id="domains">Official domains</h2>${list(doc.officialDomains.map((d) => `<code>${e(d)}</code>`))}</section>
<section aria-labelledby="handles"><h2 id="handles">Official accounts</h2>${list(doc.handles.map((h) => `${e(h.platform)}: <code>${e(h.handle)}</code>`))}</section>
<section aria-labelledby="links"><h2 id="links">Official links</h2>${list(doc.canonicalLinks.map(link))}</section>
<section aria-labelledby="partners"><h2 id="partners">Exchange and partner status</h2>${partners}</section>
<section aria-labelledby="status"><h2 id="status">Weekly status</h2>${updates}</section>
</main>
</body>
</html>
`;
}
