import type { Permission, ScopeOptions, WorkspaceRole, WorkspaceScope } from '@parley/store';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Principal } from '../auth/principal.ts';
import type { Services } from '../services.ts';

/**
 * Who may call a route. Every route declares one; the authorization matrix test derives its
 * expectations from the role table and checks every route against every kind of caller.
 *  - public: anyone (health, sign-up, login).
 *  - principal: any signed-in caller, person or token (`/v1/me`).
 *  - person: a signed-in person, not a token (creating workspaces, accepting invitations).
 *  - operator: a person listed in PARLEY_OPERATOR_EMAILS who redeemed the one-time operator
 *    code, or the local owner in single-user mode.
 *  - workspace: a member (or a token of the workspace) with the permission; the workspace is
 *    the `:workspaceId` path parameter. Non-members get 404, exactly as for no workspace.
 *  - run: like workspace, for the workspace the `:runId` belongs to.
 *  - token: an API token with the permission, its own workspace the workspace (the OpenAI
 *    compatible routes, whose API key is a token and whose paths name no workspace). A
 *    signed-in person without a token gets 403.
 */
export type Access =
  | { kind: 'public' }
  | { kind: 'principal' }
  | { kind: 'person' }
  | { kind: 'operator' }
  | { kind: 'workspace'; permission: Permission }
  | { kind: 'run'; permission: Permission }
  | { kind: 'token'; permission: Permission };

/** What authorization established for a workspace or run route. */
export interface Grant {
  workspaceId: string;
  permissions: ReadonlySet<Permission>;
  /** The member's role (sessions); tokens act by their scopes. */
  role?: WorkspaceRole;
}

export interface RouteContext<P, Q, B> {
  request: FastifyRequest;
  reply: FastifyReply;
  params: P;
  query: Q;
  body: B;
  principal: Principal;
  services: Services;
  /** The workspace grant; throws for routes that have none (a bug, not a caller error). */
  grant(): Grant;
  /** This request's actor, address, id and user agent: what the store audits it as. */
  scope: ScopeOptions;
  /** Runs `fn` in the granted workspace's transaction, with this request's actor, address and id. */
  inWorkspace<T>(fn: (ws: WorkspaceScope) => Promise<T>): Promise<T>;
}

type Schema = z.ZodType;
type Infer<S> = S extends z.ZodType ? z.infer<S> : undefined;

export interface RouteSpec<
  P extends Schema | undefined = Schema | undefined,
  Q extends Schema | undefined = Schema | undefined,
  B extends Schema | undefined = Schema | undefined,
> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  access: Access;
  params?: P;
  query?: Q;
  body?: B;
  /** Success responses by status; the first is the default status. 204 takes `null`. */
  responses: Record<number, Schema | null>;
  /** The route can answer with text/event-stream (Parley Stream v1). */
  sse?: boolean;
  /** Largest accepted body in bytes (default 1 MiB). */
  bodyLimit?: number;
  /**
   * The body reaches the handler as the exact text sent, whatever its content type, and no
   * body schema applies (chat platforms' webhooks: their signatures are over the bytes).
   */
  rawBody?: boolean;
  handler(ctx: RouteContext<Infer<P>, Infer<Q>, Infer<B>>): Promise<unknown>;
}

/** Types a route's handler from its schemas. */
export function defineRoute<
  P extends Schema | undefined = undefined,
  Q extends Schema | undefined = undefined,
  B extends Schema | undefined = undefined,
>(spec: RouteSpec<P, Q, B>): RouteSpec {
  return spec as unknown as RouteSpec;
}
