import { type Permission, ROLE_PERMISSIONS, type WorkspaceRole } from '@parley/store';
import type { Access } from '../../src/http/route.ts';

/*
 * The authorization matrix's model: who calls, at what, and what authorization must answer,
 * derived from the route's access kind and the role table (never written down per route).
 */

/** What a caller is, as far as authorization is concerned. */
export type CallerModel =
  | { kind: 'anonymous' }
  /** An expired or revoked API token: refused by authentication, before any route. */
  | { kind: 'invalid-token' }
  /** A signed-in person; `role` in the caller's own workspace (none: not a member there). */
  | { kind: 'session'; role?: WorkspaceRole; operator: boolean }
  /** An API token of the own workspace with its effective permissions. */
  | { kind: 'token'; permissions: ReadonlySet<Permission> };

/**
 * What a workspace or run route is called on: the caller's own workspace (or a run in it),
 * another owner's workspace (or run), or an id that exists nowhere. `none` for other routes.
 */
export type Target = 'own' | 'foreign' | 'nonexistent' | 'none';

export type Outcome =
  | { result: 'allowed' }
  | {
      result: 'denied';
      status: 401 | 403;
      code: 'auth.required' | 'auth.invalid_token' | 'auth.forbidden';
    }
  /** 404, word for word the answer for an id that exists nowhere. */
  | { result: 'hidden' };

const allowed: Outcome = { result: 'allowed' };
const hidden: Outcome = { result: 'hidden' };
const required: Outcome = { result: 'denied', status: 401, code: 'auth.required' };
const invalidToken: Outcome = { result: 'denied', status: 401, code: 'auth.invalid_token' };
const forbidden: Outcome = { result: 'denied', status: 403, code: 'auth.forbidden' };

/**
 * The expected answer of authorization, in the server's order: authentication (a bad bearer
 * token is never ignored, not even on public routes) → signed in (401) → the workspace or run
 * is the caller's (404, like nothing there) → the permission (403).
 */
export function expectedOutcome(access: Access, caller: CallerModel, target: Target): Outcome {
  if (caller.kind === 'invalid-token') return invalidToken;
  if (access.kind === 'public') return allowed;
  if (caller.kind === 'anonymous') return required;
  switch (access.kind) {
    case 'principal':
      return allowed;
    case 'person':
      return caller.kind === 'session' ? allowed : forbidden;
    case 'operator':
      return caller.kind === 'session' && caller.operator ? allowed : forbidden;
    case 'workspace':
    case 'run': {
      if (target !== 'own') return hidden;
      const permissions =
        caller.kind === 'token'
          ? caller.permissions
          : caller.role
            ? ROLE_PERMISSIONS[caller.role]
            : undefined;
      if (!permissions) return hidden;
      return permissions.has(access.permission) ? allowed : forbidden;
    }
    // The token's own workspace is the workspace: a person without a token is refused.
    case 'token':
      if (caller.kind !== 'token') return forbidden;
      return caller.permissions.has(access.permission) ? allowed : forbidden;
  }
}

/** `METHOD url`, the key of a route in the matrix. */
export const routeKey = (r: { method: string; url: string }) => `${r.method} ${r.url}`;

/**
 * The routes Fastify really has, from `printRoutes({ commonPrefix: false })`: a tree whose
 * lines are `├── segment (GET, HEAD)`, four characters of indentation per level, and whose
 * full paths are the concatenated segments of a line and its ancestors.
 */
export function parseRouteTree(tree: string): { method: string; url: string }[] {
  const routes: { method: string; url: string }[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^((?:[│ ] {3})*)[├└]── (.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) {
      if (line.trim() !== '') throw new Error(`unexpected line in printRoutes(): ${line}`);
      continue;
    }
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    const url = stack.join('');
    for (const method of (m[3] ?? '').split(',').map((s) => s.trim()))
      if (method) routes.push({ method, url });
  }
  return routes;
}

/** Runs `fn` over `items`, at most `limit` at a time; results in the order of `items`. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Fills `:name` path parameters; an unknown parameter is an error (a new route to look at). */
export function fillPath(url: string, values: Record<string, string>): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined)
      throw new Error(`no value for path parameter :${name} in ${url}: add one to the matrix`);
    return encodeURIComponent(value);
  });
}
