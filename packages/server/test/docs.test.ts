import { readFileSync } from 'node:fs';
import { api } from '@parley/protocol';
import { ALL_PERMISSIONS, STORE_ERROR_CODES } from '@parley/store';
import { describe, expect, it } from 'vitest';
import type { Access, RouteSpec } from '../src/http/route.ts';
import { ROUTES } from '../src/routes/index.ts';

/*
 * docs/api.md stays true: every route of the route table is in its route list (method, path
 * with `:param` as in the code, the tag's section, who may call it), every query parameter in
 * its list of filters, every error code in its tables with its status; and nothing the server
 * does not have is written there (routes, paths, permissions, codes and statuses in prose).
 */

const doc = readFileSync(new URL('../../../docs/api.md', import.meta.url), 'utf8');
/** The prose: fenced code blocks are examples (concrete ids, shell variables). */
const prose = doc.replace(/^```[\s\S]*?^```/gm, '');
const spans = [...prose.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!);

const METHOD = '(GET|POST|PUT|PATCH|DELETE)';
const key = (route: RouteSpec) => `${route.method} ${route.url}`;

function accessText(access: Access): string {
  switch (access.kind) {
    case 'public':
      return 'public';
    case 'principal':
      return 'signed in';
    case 'person':
      return 'a person';
    case 'operator':
      return 'operator';
    default:
      return `\`${access.permission}\``;
  }
}

/** The text under a `## heading`, up to the next one. */
function section(title: string): string {
  const start = doc.indexOf(`\n## ${title}\n`);
  expect(start, `docs/api.md has a "## ${title}" section`).toBeGreaterThan(-1);
  const end = doc.indexOf('\n## ', start + 1);
  return doc.slice(start, end < 0 ? undefined : end);
}

interface DocumentedRoute {
  key: string;
  tag: string | undefined;
  access: string;
}

function documentedRoutes(): DocumentedRoute[] {
  const out: DocumentedRoute[] = [];
  let tag: string | undefined;
  for (const line of section('Routes').split('\n')) {
    const heading = /^### .*\(`([a-z-]+)`\)\s*$/.exec(line);
    if (heading) tag = heading[1];
    const row = new RegExp(`^\\| \`${METHOD}\` \\| \`([^\`]+)\` \\| ([^|]+?) \\|`).exec(line);
    if (row) out.push({ key: `${row[1]} ${row[2]}`, tag, access: row[3]! });
  }
  return out;
}

/** Does a documented path (`:param` as in the code) name this route's path? */
function samePath(documented: string, url: string): boolean {
  const a = documented.split('/');
  const b = url.split('/');
  return a.length === b.length && a.every((segment, i) => segment === b[i]);
}

describe('docs/api.md', () => {
  it('lists every route once, in its tag’s section, with who may call it', () => {
    const documented = documentedRoutes();
    const keys = documented.map((d) => d.key);
    expect(new Set(keys).size, 'a route is listed twice').toBe(keys.length);
    expect([...keys].sort()).toEqual(ROUTES.map(key).sort());
    for (const route of ROUTES) {
      const entry = documented.find((d) => d.key === key(route))!;
      expect(entry.tag, `${key(route)} is under the "${route.tag}" section`).toBe(route.tag);
      expect(entry.access, `who may call ${key(route)}`).toBe(accessText(route.access));
    }
  });

  it('lists exactly the query parameters each route takes', () => {
    const documented = [
      ...section('Lists: pagination and filters').matchAll(
        new RegExp(`^\\| \`${METHOD} ([^\`]+)\` \\| \`([A-Za-z]+)\` \\|`, 'gm'),
      ),
    ].map((m) => `${m[1]} ${m[2]} ?${m[3]}`);
    const actual = ROUTES.flatMap((route) => {
      const shape = (route.query as unknown as { shape?: Record<string, unknown> } | undefined)
        ?.shape;
      return Object.keys(shape ?? {}).map((name) => `${key(route)} ?${name}`);
    });
    expect(actual.length).toBeGreaterThan(10);
    expect(new Set(documented).size, 'a parameter is listed twice').toBe(documented.length);
    expect([...documented].sort()).toEqual(actual.sort());
  });

  it('lists every error code with its status, and no other', () => {
    const errors = section('Errors');
    const documented = [...errors.matchAll(/^\| `([a-z_.]+)` \| (\d{3}) \|/gm)].map(
      (m) => [m[1]!, Number(m[2])] as const,
    );
    const codes = documented.map(([code]) => code);
    expect(new Set(codes).size, 'a code is listed twice').toBe(codes.length);
    const actual = [
      ...Object.entries(api.API_ERROR_CODES).map(([code, v]) => [code, v.status] as const),
      ...Object.entries(STORE_ERROR_CODES).map(([code, v]) => [code, v.status] as const),
    ];
    expect(Object.fromEntries(documented)).toEqual(Object.fromEntries(actual));
  });

  it('names in its prose only routes, paths and permissions that exist', () => {
    const routeSpans = spans.filter((s) => new RegExp(`^${METHOD} /`).test(s));
    const pathSpans = spans.filter((s) => s.startsWith('/'));
    expect(routeSpans.length + pathSpans.length).toBeGreaterThan(10);
    for (const span of routeSpans) {
      const [method, target] = span.split(' ') as [string, string];
      const path = target.split('?')[0]!;
      expect(
        ROUTES.some((r) => r.method === method && samePath(path, r.url)),
        `\`${span}\` is a route`,
      ).toBe(true);
    }
    for (const span of pathSpans) {
      const path = span.split('?')[0]!;
      // `/v1/` and `/v1/runs/:runId…` name the routes they begin.
      const prefix = path.endsWith('…') ? path.slice(0, -1) : path.endsWith('/') ? path : undefined;
      const exists =
        prefix !== undefined
          ? ROUTES.some((r) => r.url.startsWith(prefix))
          : ROUTES.some((r) => samePath(path, r.url));
      expect(exists, `\`${span}\` is a path of the API`).toBe(true);
    }
    const permissions = spans.filter((s) => /^[a-z]+:[a-z]+$/.test(s));
    expect(permissions.length).toBeGreaterThan(5);
    for (const permission of permissions)
      expect(ALL_PERMISSIONS as readonly string[], `\`${permission}\``).toContain(permission);
  });

  it('gives each code it mentions in its prose the status the server answers with', () => {
    const statuses: Record<string, number> = {
      ...Object.fromEntries(Object.entries(api.API_ERROR_CODES).map(([c, v]) => [c, v.status])),
      ...Object.fromEntries(Object.entries(STORE_ERROR_CODES).map(([c, v]) => [c, v.status])),
    };
    const mentions = [...prose.matchAll(/\b(\d{3}) `([a-z_.]+)`/g)];
    expect(mentions.length).toBeGreaterThan(10);
    for (const [text, status, code] of mentions)
      expect(statuses[code!], `"${text}": ${code} answers ${statuses[code!]}`).toBe(Number(status));
  });

  it('links only to sections and documents that exist', () => {
    const slug = (heading: string) =>
      heading
        .toLowerCase()
        .replace(/[^a-z0-9 -]/g, '')
        .replaceAll(' ', '-');
    const anchors = new Set([...doc.matchAll(/^#+ (.+)$/gm)].map((m) => slug(m[1]!)));
    for (const [, target] of prose.matchAll(/\]\(([^)]+)\)/g)) {
      if (target!.startsWith('#')) expect(anchors, target).toContain(target!.slice(1));
      else {
        const file = new URL(`../../../docs/${target!.split('#')[0]}`, import.meta.url);
        expect(() => readFileSync(file), target).not.toThrow();
      }
    }
  });
});
