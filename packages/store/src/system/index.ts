import { authSystem } from './auth.ts';
import { channelsSystem } from './channels.ts';
import { clusterSystem } from './cluster.ts';
import type { SystemDeps } from './deps.ts';
import { productEventsSystem } from './product-events.ts';
import { runLeasesSystem } from './run-leases.ts';
import { sessionsSystem } from './sessions.ts';
import { instanceSignalsSystem } from './signals.ts';
import { trustSystem } from './trust.ts';
import { usersSystem } from './users.ts';
import { vaultSystem } from './vault-admin.ts';
import { workspacesSystem } from './workspaces.ts';

/**
 * What crosses workspaces by design: people (users, sessions), creating workspaces and
 * listing a user's, authenticating tokens and invitations before a workspace is known,
 * instance-wide security signals, the product funnel, and master-key rotation. Nothing here
 * returns another workspace's agents, runs, memories or secrets; for those, withWorkspace().
 */
export function createSystemSurface(deps: SystemDeps) {
  const users = usersSystem(deps);
  const auth = authSystem(deps, users);
  return {
    users,
    sessions: sessionsSystem(deps),
    workspaces: workspacesSystem(deps, users),
    /** Bearer-token authentication (the only token lookup that is not inside a workspace). */
    authenticateApiToken: auth.authenticateApiToken,
    invitations: auth.invitations,
    productEvents: productEventsSystem(deps),
    securitySignals: instanceSignalsSystem(deps),
    /** Leases of unfinished runs: which instance executes each (clusters). */
    runLeases: runLeasesSystem(deps),
    /** What a cluster's instances share: counters, timed jobs' ticks, the plugin kill switch. */
    cluster: clusterSystem(deps),
    vault: vaultSystem(deps),
    /** Public trust pages by slug; workspaces with support tickets (the SLA scheduler). */
    trust: trustSystem(deps),
    /** Workspaces whose deployed agents list chat channels (ids only; the channel manager's start). */
    channels: channelsSystem(deps),
  };
}

export type SystemSurface = ReturnType<typeof createSystemSurface>;
