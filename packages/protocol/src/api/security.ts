import { z } from 'zod';

/*
 * Respond (docs/security.md): the workspace's security report and the levers to pull when
 * something is wrong, as the HTTP API shows them.
 */

const int = z.number().int();
const Counts = z.record(z.string(), int);

/** What happened in a workspace since a time (GET …/security/report). */
export const SecurityReportSchema = z.object({
  since: z.string(),
  until: z.string(),
  signals: z.object({
    total: int,
    unacknowledged: int,
    byKind: Counts,
    bySeverity: z.object({ info: int, warning: int, critical: int }),
  }),
  audit: z.object({
    total: int,
    denied: int,
    byAction: Counts,
    tokensCreated: int,
    tokensRevoked: int,
    secretWrites: int,
    secretDecrypts: int,
    roleChanges: int,
    membersAdded: int,
    membersRemoved: int,
    pluginDenials: int,
  }),
  /** Tokens seen from an address other than their last one (`token.new_address` signals). */
  tokensFromNewAddresses: z.array(
    z.object({
      tokenId: z.string(),
      name: z.string().nullable(),
      prefix: z.string().nullable(),
      addresses: z.array(z.string()),
      times: int,
      lastAt: z.string(),
    }),
  ),
  /** The addresses behind the most audit events and signals in the window. */
  topAddresses: z.array(z.object({ ip: z.string(), auditEvents: int, signals: int })),
  /** True when the window held more than the report reads (the counts are lower bounds). */
  truncated: z.boolean(),
});
export type SecurityReport = z.infer<typeof SecurityReportSchema>;

/** Revoking everything is said in so many words: an empty POST revokes nothing. */
export const RevokeTokensRequestSchema = z
  .object({ userId: z.uuid().optional(), all: z.literal(true).optional() })
  .strict()
  .refine((b) => (b.userId === undefined) !== (b.all === undefined), {
    error:
      'send {"all": true} for every token, or {"userId": "…"} for the tokens one person created',
  });
export const RevokeTokensResponseSchema = z.object({
  revoked: int,
  tokenIds: z.array(z.string()),
  userId: z.string().nullable(),
  /** Active tokens owners created that a non-owner's `all` left alone (only an owner revokes those). */
  ownersTokensKept: int,
});

export const EndSessionsRequestSchema = z.object({ userId: z.uuid() }).strict();
export const EndSessionsResponseSchema = z.object({ userId: z.string(), ended: int });

export const MasterKeyRotationSchema = z.object({
  version: int,
  rewrappedDataKeys: int,
  workspaces: int,
  configuredVersions: z.array(int),
  source: z.string().nullable(),
  /** What is left to do, for people. */
  next: z.string(),
});

export const PluginSwitchSchema = z.object({
  name: z.string(),
  disabled: z.boolean(),
  disabledPlugins: z.array(z.string()),
});
