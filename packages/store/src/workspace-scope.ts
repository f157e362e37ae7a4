import { toStoreError } from './db.ts';
import { agentsRepository } from './repositories/agents.ts';
import { apiTokensRepository } from './repositories/api-tokens.ts';
import { auditRepository, securitySignalsRepository } from './repositories/audit.ts';
import { conversationsRepository, messagesRepository } from './repositories/conversations.ts';
import { evalsRepository } from './repositories/evals.ts';
import { knowledgeRepository } from './repositories/knowledge.ts';
import { memoriesRepository } from './repositories/memories.ts';
import { runsRepository } from './repositories/runs.ts';
import { secretsRepository } from './repositories/secrets.ts';
import { supportRepository } from './repositories/support.ts';
import { trustRepository } from './repositories/trust.ts';
import {
  invitationsRepository,
  membersRepository,
  workspaceRepository,
} from './repositories/workspace.ts';
import type { ScopeContext } from './scope.ts';

const READ_ONLY = /^(get|list|search|summary)/;

/**
 * Wraps every method: writes run in a savepoint, so a typed error (a taken name, a missing
 * parent) leaves the caller's transaction usable; every database error leaves as a StoreError
 * without Drizzle's message (which carries the query parameters).
 */
function guard<T extends object>(ctx: ScopeContext, repo: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(repo)) {
    if (typeof fn !== 'function') continue;
    wrapped[name] = async (...args: unknown[]) => {
      try {
        if (READ_ONLY.test(name)) return await fn(...args);
        return await ctx.savepoint(() => fn(...args));
      } catch (error) {
        throw toStoreError(error);
      }
    };
  }
  return wrapped as T;
}

/** Everything a request may do inside one workspace. Hand it to nothing that outlives the callback. */
export function createWorkspaceScope(ctx: ScopeContext) {
  return {
    /** The workspace every call is confined to. */
    workspaceId: ctx.workspaceId,
    /**
     * Writes from now on skip their savepoint (two round trips each), so a failed one aborts
     * the transaction: only for a caller that attempts nothing after a failed write (a
     * transaction of one write).
     */
    withoutSavepoints() {
      ctx.savepoints = false;
    },
    /** Whether writes run in savepoints (a failed one leaves the transaction usable). */
    get savepoints() {
      return ctx.savepoints;
    },
    workspace: guard(ctx, workspaceRepository(ctx)),
    members: guard(ctx, membersRepository(ctx)),
    invitations: guard(ctx, invitationsRepository(ctx)),
    apiTokens: guard(ctx, apiTokensRepository(ctx)),
    secrets: guard(ctx, secretsRepository(ctx)),
    agents: guard(ctx, agentsRepository(ctx)),
    conversations: guard(ctx, conversationsRepository(ctx)),
    messages: guard(ctx, messagesRepository(ctx)),
    runs: guard(ctx, runsRepository(ctx)),
    evals: guard(ctx, evalsRepository(ctx)),
    memories: guard(ctx, memoriesRepository(ctx)),
    knowledge: guard(ctx, knowledgeRepository(ctx)),
    audit: guard(ctx, auditRepository(ctx)),
    securitySignals: guard(ctx, securitySignalsRepository(ctx)),
    trust: guard(ctx, trustRepository(ctx)),
    support: guard(ctx, supportRepository(ctx)),
  };
}

export type WorkspaceScope = ReturnType<typeof createWorkspaceScope>;
