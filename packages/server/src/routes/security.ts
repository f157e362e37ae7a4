import { api } from '@parley/protocol';
import {
  type AuditEvent,
  type SecuritySignal,
  VaultError,
  type WorkspaceRole,
  type WorkspaceScope,
} from '@parley/store';
import { z } from 'zod';
import { actorOf, type Principal } from '../auth/principal.ts';
import { isInstalledPlugin } from '../config.ts';
import { HttpProblem, notFound } from '../http/problem.ts';
import { defineRoute } from '../http/route.ts';
import { PLUGIN_CATALOG } from '../runs/plugin-catalog.ts';
import type { Services } from '../services.ts';
import { Timestamp, WorkspaceParams } from './params.ts';

/*
 * Respond: what happened in a workspace lately (one report from the audit log and the
 * security signals), and the levers to pull when something is wrong: revoke every token, end
 * a member's sessions, rotate the master key, switch a plugin off for the whole server.
 */

const DAY = 86_400_000;
/** The report reads the audit log in pages of this size, at most REPORT_MAX_PAGES of them. */
const PAGE = 1_000;
const REPORT_MAX_PAGES = 20;
const TOP_ADDRESSES = 10;

/** Audit actions the report counts by name (`audit.byAction` has every action). */
const HIGHLIGHTS = {
  tokensCreated: ['token.create'],
  tokensRevoked: ['token.revoke'],
  secretWrites: ['secret.create', 'secret.update', 'secret.delete'],
  secretDecrypts: ['secret.decrypt'],
  roleChanges: ['member.role_change'],
  membersAdded: ['member.add', 'invitation.accept'],
  membersRemoved: ['member.remove'],
  pluginDenials: ['plugin.denied'],
} as const;

/** Newest first, every audit event at or after `since` (up to the page limit). */
async function auditSince(
  ws: WorkspaceScope,
  since: Date,
): Promise<{ events: AuditEvent[]; truncated: boolean }> {
  const events: AuditEvent[] = [];
  let beforeId: string | undefined;
  for (let page = 0; page < REPORT_MAX_PAGES; page++) {
    // Paged by the last event's id: events of one transaction share their time, none is lost.
    const rows = await ws.audit.list({ limit: PAGE, ...(beforeId ? { beforeId } : {}) });
    for (const row of rows) {
      if (row.at < since) return { events, truncated: false };
      events.push(row);
    }
    if (rows.length < PAGE) return { events, truncated: false };
    beforeId = rows.at(-1)!.id;
  }
  return { events, truncated: true };
}

function count(into: Record<string, number>, key: string, by = 1) {
  into[key] = (into[key] ?? 0) + by;
}

/** The caller's role for owner-only rules: a session's, or a token creator's current one. */
async function callerRole(
  principal: Principal,
  sessionRole: WorkspaceRole | undefined,
  ws: WorkspaceScope,
): Promise<string | undefined> {
  if (principal.kind !== 'token') return sessionRole;
  return principal.userId ? (await ws.members.get(principal.userId))?.role : undefined;
}

/**
 * Admins cannot act on owners: only an owner may end an owner's sessions or revoke the tokens
 * an owner created (an owner acting on themselves is fine). The same rule for every lever.
 */
async function refuseUnlessMayActOn(
  target: { role: string } | null,
  principal: Principal,
  sessionRole: WorkspaceRole | undefined,
  ws: WorkspaceScope,
  what: string,
): Promise<void> {
  if (target?.role === 'owner' && (await callerRole(principal, sessionRole, ws)) !== 'owner')
    throw new HttpProblem('auth.forbidden', `Only an owner may ${what}.`);
}

/** The plugin's name if this server can run it (its catalog, or PARLEY_PLUGINS_DIR), else 404. */
function pluginName(name: string, services: Services): string {
  if (!isInstalledPlugin(name, services.config.pluginsDir))
    throw new HttpProblem(
      'resource.not_found',
      `Plugin ${name} is not installed on this server (built in: ${Object.keys(PLUGIN_CATALOG).join(', ')}${services.config.pluginsDir ? '; community plugins: PARLEY_PLUGINS_DIR' : ''}).`,
    );
  return name;
}

const PluginParams = z.object({ name: z.string().min(1).max(214) });

/** Who set a plugin switch, as stored (`user:<id>`, `token:<id>`). */
function switchedBy(principal: Principal): string {
  const actor = actorOf(principal);
  return actor.id ? `${actor.type}:${actor.id}` : actor.type;
}

export const securityRoutes = [
  defineRoute({
    method: 'GET',
    url: '/v1/workspaces/:workspaceId/security/report',
    operationId: 'securityReport',
    summary:
      'What happened in the workspace since a time (default: 24 hours): signals, audited actions, tokens used from new addresses, the busiest addresses.',
    tag: 'security',
    access: { kind: 'workspace', permission: 'audit:read' },
    params: WorkspaceParams,
    query: z.object({ since: Timestamp.optional() }),
    responses: { 200: api.SecurityReportSchema },
    handler: async (ctx) => {
      const until = new Date();
      const since = ctx.query.since ? new Date(ctx.query.since) : new Date(until.getTime() - DAY);
      const { audit, signals, tokens } = await ctx.inWorkspace(async (ws) => ({
        audit: await auditSince(ws, since),
        signals: await ws.securitySignals.list({ since, limit: PAGE }),
        tokens: await ws.apiTokens.list(),
      }));
      const byAction: Record<string, number> = {};
      const addresses = new Map<string, { auditEvents: number; signals: number }>();
      const address = (ip: string | null) => {
        if (!ip) return undefined;
        let entry = addresses.get(ip);
        if (!entry) {
          entry = { auditEvents: 0, signals: 0 };
          addresses.set(ip, entry);
        }
        return entry;
      };
      let denied = 0;
      for (const event of audit.events) {
        count(byAction, event.action);
        if (event.outcome === 'denied') denied++;
        const a = address(event.ip);
        if (a) a.auditEvents++;
      }
      const byKind: Record<string, number> = {};
      const bySeverity = { info: 0, warning: 0, critical: 0 };
      const newAddresses = new Map<string, { ips: Set<string>; times: number; lastAt: Date }>();
      let unacknowledged = 0;
      for (const signal of signals as SecuritySignal[]) {
        count(byKind, signal.kind);
        const severity = signal.severity as keyof typeof bySeverity;
        if (severity in bySeverity) bySeverity[severity]++;
        if (!signal.acknowledgedAt) unacknowledged++;
        const a = address(signal.ip);
        if (a) a.signals++;
        if (signal.kind === 'token.new_address' && signal.actorId) {
          let entry = newAddresses.get(signal.actorId);
          if (!entry) {
            entry = { ips: new Set(), times: 0, lastAt: signal.at };
            newAddresses.set(signal.actorId, entry);
          }
          if (signal.ip) entry.ips.add(signal.ip);
          entry.times++;
          if (signal.at > entry.lastAt) entry.lastAt = signal.at;
        }
      }
      const sum = (actions: readonly string[]) =>
        actions.reduce((n, action) => n + (byAction[action] ?? 0), 0);
      const tokenById = new Map(tokens.map((t) => [t.id, t]));
      return {
        since: since.toISOString(),
        until: until.toISOString(),
        signals: { total: signals.length, unacknowledged, byKind, bySeverity },
        audit: {
          total: audit.events.length,
          denied,
          byAction,
          ...(Object.fromEntries(
            Object.entries(HIGHLIGHTS).map(([name, actions]) => [name, sum(actions)]),
          ) as Record<keyof typeof HIGHLIGHTS, number>),
        },
        tokensFromNewAddresses: [...newAddresses]
          .map(([tokenId, entry]) => ({
            tokenId,
            name: tokenById.get(tokenId)?.name ?? null,
            prefix: tokenById.get(tokenId)?.prefix ?? null,
            addresses: [...entry.ips].sort(),
            times: entry.times,
            lastAt: entry.lastAt.toISOString(),
          }))
          .sort((a, b) => b.times - a.times || a.tokenId.localeCompare(b.tokenId)),
        topAddresses: [...addresses]
          .map(([ip, n]) => ({ ip, ...n }))
          .sort(
            (a, b) =>
              b.auditEvents + b.signals - (a.auditEvents + a.signals) || a.ip.localeCompare(b.ip),
          )
          .slice(0, TOP_ADDRESSES),
        truncated: audit.truncated || signals.length >= PAGE,
      };
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/workspaces/:workspaceId/security/revoke-tokens',
    operationId: 'revokeAllTokens',
    summary:
      'Revoke every active API token of the workspace at once (`{"all": true}`), or only those a user created (`{"userId": …}`); answers how many.',
    tag: 'security',
    access: { kind: 'workspace', permission: 'tokens:manage' },
    params: WorkspaceParams,
    // Revoking everything is said in so many words: an empty POST revokes nothing.
    body: api.RevokeTokensRequestSchema,
    responses: { 200: api.RevokeTokensResponseSchema },
    handler: async (ctx) => {
      const { userId } = ctx.body;
      const now = Date.now();
      const { ids, ownersTokensKept } = await ctx.inWorkspace(async (ws) => {
        if (userId !== undefined)
          await refuseUnlessMayActOn(
            await ws.members.get(userId),
            ctx.principal,
            ctx.grant().role,
            ws,
            "revoke an owner's tokens",
          );
        const active = (await ws.apiTokens.list()).filter(
          (t) =>
            !t.revokedAt &&
            t.expiresAt.getTime() > now &&
            (userId === undefined || t.createdBy === userId),
        );
        // `all` from an admin spares what owners created: the same rule, or `all` would be
        // the way around it.
        const owners = new Set(
          (await callerRole(ctx.principal, ctx.grant().role, ws)) === 'owner'
            ? []
            : (await ws.members.list()).filter((m) => m.role === 'owner').map((m) => m.userId),
        );
        const ownersTokens = active.filter((t) => t.createdBy && owners.has(t.createdBy));
        // Revoking a token revokes what it minted: those need no second revocation.
        const done = new Set<string>();
        for (const token of active) {
          if (done.has(token.id) || ownersTokens.includes(token)) continue;
          for (const id of await ws.apiTokens.revoke(token.id)) done.add(id);
        }
        await ws.audit.record({
          action: 'security.revoke_tokens',
          ...(userId ? { targetType: 'user', targetId: userId } : {}),
          metadata: {
            revoked: done.size,
            ...(ownersTokens.length > 0 ? { ownersTokensKept: ownersTokens.length } : {}),
          },
        });
        return { ids: [...done], ownersTokensKept: ownersTokens.length };
      });
      // Cached token checks of this process go too, before the caller hears it is done.
      ctx.services.tokenCache.clear();
      ctx.services.log.warn(
        { workspaceId: ctx.grant().workspaceId, revoked: ids.length, userId, ownersTokensKept },
        'API tokens revoked in bulk',
      );
      return { revoked: ids.length, tokenIds: ids, userId: userId ?? null, ownersTokensKept };
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/workspaces/:workspaceId/security/end-sessions',
    operationId: 'endMemberSessions',
    summary:
      'Sign a member out everywhere: ends all their sessions (on every device, for every workspace); their API tokens stay (revoke-tokens).',
    tag: 'security',
    access: { kind: 'workspace', permission: 'members:manage' },
    params: WorkspaceParams,
    body: api.EndSessionsRequestSchema,
    responses: { 200: api.EndSessionsResponseSchema },
    handler: async (ctx) => {
      const { userId } = ctx.body;
      await ctx.inWorkspace(async (ws) => {
        const member = await ws.members.get(userId);
        if (!member) throw notFound('Member');
        await refuseUnlessMayActOn(
          member,
          ctx.principal,
          ctx.grant().role,
          ws,
          "end an owner's sessions",
        );
      });
      const ended = await ctx.services.store.system.sessions.revokeAllForUser(userId);
      await ctx.inWorkspace((ws) =>
        ws.audit.record({
          action: 'security.end_sessions',
          targetType: 'user',
          targetId: userId,
          metadata: { ended },
        }),
      );
      ctx.services.log.warn(
        { workspaceId: ctx.grant().workspaceId, userId, ended, by: actorOf(ctx.principal) },
        'sessions ended',
      );
      return { userId, ended };
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/instance/rotate-master-key',
    operationId: 'rotateMasterKey',
    summary:
      "Re-wrap every workspace's data keys under the newest master key (with PARLEY_MASTER_KEY, configure the new version first).",
    tag: 'security',
    access: { kind: 'operator' },
    responses: { 200: api.MasterKeyRotationSchema },
    handler: async ({ services, principal }) => {
      const { vault } = services.store.system;
      let result: Awaited<ReturnType<typeof vault.rotateMasterKey>>;
      try {
        result = await vault.rotateMasterKey();
      } catch (error) {
        if (error instanceof VaultError && error.code === 'vault.rotation_needs_new_key') {
          throw new VaultError(
            'vault.rotation_needs_new_key',
            `${error.message} A new key: openssl rand -base64 32.`,
          );
        }
        throw error;
      }
      const status = await vault.status();
      const older = status.configuredVersions.filter((v) => v !== result.version);
      services.log.warn(
        { by: actorOf(principal), version: result.version, rewrapped: result.rewrappedDataKeys },
        'master key rotated',
      );
      return {
        ...result,
        configuredVersions: status.configuredVersions,
        source: status.source,
        next:
          status.source === 'setting' && older.length > 0
            ? `Every data key is wrapped by v${result.version}: PARLEY_MASTER_KEY may now hold v${result.version} alone (remove ${older.map((v) => `v${v}`).join(', ')}) at the next restart.`
            : `Every data key is wrapped by v${result.version}.`,
      };
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/instance/plugins/:name/disable',
    operationId: 'disablePlugin',
    summary:
      'Switch an installed plugin off on every instance (stored): runs of agents that use it answer 422 until it is enabled.',
    tag: 'security',
    access: { kind: 'operator' },
    params: PluginParams,
    responses: { 200: api.PluginSwitchSchema },
    handler: async ({ params, services, principal }) => {
      const name = pluginName(params.name, services);
      await services.pluginSwitches.set(name, true, switchedBy(principal));
      services.log.warn({ plugin: name, by: actorOf(principal) }, 'plugin disabled');
      return { name, disabled: true, disabledPlugins: [...services.runs.disabledPlugins].sort() };
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/instance/plugins/:name/enable',
    operationId: 'enablePlugin',
    summary: 'Switch a disabled plugin back on, on every instance (stored).',
    tag: 'security',
    access: { kind: 'operator' },
    params: PluginParams,
    responses: { 200: api.PluginSwitchSchema },
    handler: async ({ params, services, principal }) => {
      const name = pluginName(params.name, services);
      await services.pluginSwitches.set(name, false, switchedBy(principal));
      services.log.warn({ plugin: name, by: actorOf(principal) }, 'plugin enabled');
      return { name, disabled: false, disabledPlugins: [...services.runs.disabledPlugins].sort() };
    },
  }),
];
