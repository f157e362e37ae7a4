import { type Permission, ROLE_PERMISSIONS, type WorkspaceRole } from '@parley/store';
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../auth/principal.ts';
import type { Services } from '../services.ts';
import { HttpProblem } from './problem.ts';
import type { Access, Grant } from './route.ts';
import { isUuid } from './uuid.ts';

/** Foreign and nonexistent workspaces answer the same, word for word. */
const noWorkspace = () => new HttpProblem('resource.not_found', 'Workspace was not found.');
const noRun = () => new HttpProblem('resource.not_found', 'Run was not found.');

export function isOperator(principal: Principal, services: Services): boolean {
  if (principal.kind !== 'session') return false;
  if (!services.config.multiUser) return principal.user.id === services.localOwnerId;
  // A listed address is not enough: the person confirmed it with a one-time operator code.
  return (
    principal.user.operatorConfirmedAt != null &&
    services.config.operatorEmails.includes(principal.user.email.toLowerCase())
  );
}

function requireSignedIn(principal: Principal) {
  if (principal.kind === 'anonymous')
    throw new HttpProblem(
      'auth.required',
      'Sign in, or send an API token as "Authorization: Bearer prl_…".',
    );
}

function checkPermission(grant: Grant, permission: Permission) {
  if (!grant.permissions.has(permission)) {
    throw new HttpProblem(
      'auth.forbidden',
      grant.role
        ? `Your role (${grant.role}) does not allow ${permission}.`
        : `This token's scopes do not allow ${permission}.`,
    );
  }
}

async function membership(
  services: Services,
  userId: string,
  workspaceId: string,
): Promise<WorkspaceRole | undefined> {
  const workspaces = await services.store.system.workspaces.listForUser(userId);
  return workspaces.find((w) => w.workspaceId === workspaceId)?.role;
}

function probe(services: Services, request: FastifyRequest, principal: Principal, target: string) {
  if (principal.kind === 'session')
    services.detector.crossWorkspaceProbe(
      { type: 'user', id: principal.user.id },
      request.ip,
      target,
    );
  else if (principal.kind === 'token')
    services.detector.crossWorkspaceProbe(
      { type: 'token', id: principal.tokenId, workspaceId: principal.workspaceId },
      request.ip,
      target,
    );
}

async function workspaceGrant(
  services: Services,
  request: FastifyRequest,
  principal: Principal,
  workspaceId: unknown,
): Promise<Grant> {
  if (!isUuid(workspaceId)) throw noWorkspace();
  if (principal.kind === 'token') {
    if (principal.workspaceId !== workspaceId) {
      probe(services, request, principal, workspaceId);
      throw noWorkspace();
    }
    return { workspaceId, permissions: principal.permissions };
  }
  if (principal.kind !== 'session') throw noWorkspace();
  const role = await membership(services, principal.user.id, workspaceId);
  if (!role) {
    probe(services, request, principal, workspaceId);
    throw noWorkspace();
  }
  return { workspaceId, role, permissions: ROLE_PERMISSIONS[role] };
}

/** Finds the workspace of a run among those the caller may see. */
async function runGrant(
  services: Services,
  request: FastifyRequest,
  principal: Principal,
  runId: unknown,
): Promise<Grant> {
  if (!isUuid(runId)) throw noRun();
  const candidates: { workspaceId: string; role?: WorkspaceRole }[] =
    principal.kind === 'token'
      ? [{ workspaceId: principal.workspaceId }]
      : principal.kind === 'session'
        ? (await services.store.system.workspaces.listForUser(principal.user.id)).map((w) => ({
            workspaceId: w.workspaceId,
            role: w.role,
          }))
        : [];
  const liveIn = services.runs.workspaceOf(runId);
  const found = liveIn
    ? candidates.find((c) => c.workspaceId === liveIn)
    : await firstFound(
        storedIn(services, candidates, runId),
        locatedIn(services, candidates, runId),
      );
  if (found) {
    return {
      workspaceId: found.workspaceId,
      ...(found.role ? { role: found.role } : {}),
      permissions:
        principal.kind === 'token' ? principal.permissions : ROLE_PERMISSIONS[found.role!],
    };
  }
  probe(services, request, principal, runId);
  throw noRun();
}

type Candidate = { workspaceId: string; role?: WorkspaceRole };

/** The first of `candidates` whose workspace stores the run. */
async function storedIn(services: Services, candidates: Candidate[], runId: string) {
  for (const candidate of candidates) {
    const stored = await services.store.withWorkspace(
      candidate.workspaceId,
      async (ws) => (await ws.runs.get(runId)) !== null,
    );
    if (stored) return candidate;
  }
  return undefined;
}

/**
 * The candidate whose workspace the instance executing the run names over the bus: a run
 * streams while its row is written, and a client of another instance may come before it is
 * stored (issue #21: followers attaching got 404s for 0.5–1 s).
 */
async function locatedIn(services: Services, candidates: Candidate[], runId: string) {
  const workspaceId = await services.runs.locate(runId);
  return candidates.find((c) => c.workspaceId === workspaceId);
}

/** The first of two answers that found something; undefined once neither did. */
function firstFound<T>(a: Promise<T | undefined>, b: Promise<T | undefined>) {
  return new Promise<T | undefined>((resolve, reject) => {
    let left = 2;
    const settle = (value: T | undefined) => {
      left--;
      if (value !== undefined || left === 0) resolve(value);
    };
    a.then(settle, reject);
    b.then(settle, reject);
  });
}

/**
 * Decides whether the caller may use the route; returns the workspace grant for workspace
 * and run routes. Order: signed in (401) → the workspace is theirs (404) → the permission
 * (403), so a non-member learns nothing, not even that the workspace exists.
 */
export async function authorize(
  access: Access,
  principal: Principal,
  params: Record<string, unknown>,
  request: FastifyRequest,
  services: Services,
): Promise<Grant | undefined> {
  switch (access.kind) {
    case 'public':
      return undefined;
    case 'principal':
      requireSignedIn(principal);
      return undefined;
    case 'person':
      requireSignedIn(principal);
      if (principal.kind !== 'session')
        throw new HttpProblem(
          'auth.forbidden',
          'Only a signed-in person may do this, not an API token.',
        );
      return undefined;
    case 'operator':
      requireSignedIn(principal);
      if (!isOperator(principal, services))
        throw new HttpProblem(
          'auth.forbidden',
          'Only an operator of this server may see this (PARLEY_OPERATOR_EMAILS, confirmed with the operator code: POST /v1/auth/operator/confirm).',
        );
      return undefined;
    case 'workspace': {
      requireSignedIn(principal);
      const grant = await workspaceGrant(services, request, principal, params.workspaceId);
      checkPermission(grant, access.permission);
      return grant;
    }
    case 'run': {
      requireSignedIn(principal);
      const grant = await runGrant(services, request, principal, params.runId);
      checkPermission(grant, access.permission);
      return grant;
    }
    case 'token': {
      requireSignedIn(principal);
      if (principal.kind !== 'token')
        throw new HttpProblem(
          'auth.forbidden',
          'Only an API token may call this (send it as "Authorization: Bearer prl_…"): its workspace is the workspace.',
        );
      const grant = { workspaceId: principal.workspaceId, permissions: principal.permissions };
      checkPermission(grant, access.permission);
      return grant;
    }
  }
}
