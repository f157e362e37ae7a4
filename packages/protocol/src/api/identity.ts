import { z } from 'zod';
import { WORKSPACE_ROLES } from '../roles.ts';

/*
 * People, workspaces, membership, invitations and API tokens as the HTTP API shows them.
 * Times are ISO 8601 strings; ids are UUIDs. Nothing here ever carries a password, a session
 * secret or a token after the one response that creates it.
 */

const timestamp = z.iso.datetime({ offset: true });
const uuid = z.uuid();

export const WORKSPACE_ROLE_NAMES = WORKSPACE_ROLES;
export const RoleSchema = z.enum(WORKSPACE_ROLE_NAMES);
export type Role = z.infer<typeof RoleSchema>;

export const UserSchema = z.object({
  id: uuid,
  email: z.string(),
  displayName: z.string().nullable(),
  createdAt: timestamp,
});
export type User = z.infer<typeof UserSchema>;

export const WorkspaceSchema = z.object({
  id: uuid,
  name: z.string(),
  createdAt: timestamp,
  /** The caller's role in it (absent for a token, which acts by its scopes). */
  role: RoleSchema.optional(),
});
export type Workspace = z.infer<typeof WorkspaceSchema>;

export const MeSchema = z.object({
  mode: z.enum(['single-user', 'multi-user']),
  auth: z.enum(['session', 'token']),
  user: UserSchema.nullable(),
  workspaces: z.array(WorkspaceSchema),
  /** With a token: the one workspace it acts in and what it may do there. */
  token: z
    .object({
      id: uuid,
      workspaceId: uuid,
      scopes: z.array(z.string()),
      permissions: z.array(z.string()),
      expiresAt: timestamp,
    })
    .optional(),
  /** Whether this caller may read the instance-wide views (funnel, instance signals). */
  operator: z.boolean(),
});
export type Me = z.infer<typeof MeSchema>;

export const EmailSchema = z.email().max(320);
/** NIST SP 800-63B: at least 12 characters here, no composition rules, at most 256. */
export const PasswordSchema = z.string().min(12, 'use at least 12 characters').max(256);

export const SignUpRequestSchema = z.object({
  email: EmailSchema,
  password: PasswordSchema,
  displayName: z.string().min(1).max(200).optional(),
  /** Name of the first workspace (default "<name>'s workspace"). */
  workspaceName: z.string().min(1).max(200).optional(),
});
/** The one-time operator code from the server's log or its PARLEY_OPERATOR_CODE. */
/** POST /v1/auth/logout: a POST without a body (`fetch(url, { method: 'POST' })`) arrives as null. */
export const LogOutRequestSchema = z.object({ everywhere: z.boolean().optional() }).nullish();

export const ConfirmOperatorRequestSchema = z.object({ code: z.string().min(1).max(200) }).strict();
export const ConfirmOperatorResponseSchema = z.object({
  operator: z.literal(true),
  /** True when this person was confirmed before (the code was not used). */
  alreadyConfirmed: z.boolean(),
});

export const LoginRequestSchema = z.object({
  email: EmailSchema,
  password: z.string().min(1).max(256),
});
export const SessionResponseSchema = z.object({
  user: UserSchema,
  workspaces: z.array(WorkspaceSchema),
  expiresAt: timestamp,
});

export const CreateWorkspaceRequestSchema = z.object({ name: z.string().min(1).max(200) });
export const RenameWorkspaceRequestSchema = CreateWorkspaceRequestSchema;

export const MemberSchema = z.object({
  userId: uuid,
  email: z.string(),
  displayName: z.string().nullable(),
  role: RoleSchema,
  joinedAt: timestamp,
});
export const SetRoleRequestSchema = z.object({ role: RoleSchema });

export const INVITABLE_ROLE_NAMES = ['admin', 'developer', 'viewer'] as const;
export const InvitationSchema = z.object({
  id: uuid,
  email: z.string(),
  role: RoleSchema,
  createdAt: timestamp,
  expiresAt: timestamp,
  status: z.enum(['pending', 'accepted', 'revoked', 'expired']),
});
export const CreateInvitationRequestSchema = z.object({
  email: EmailSchema,
  role: z.enum(INVITABLE_ROLE_NAMES),
  /** Default 7, at most 30. */
  expiresInDays: z.number().int().min(1).max(30).optional(),
});
export const CreatedInvitationSchema = z.object({
  invitation: InvitationSchema,
  /** Shown once: the invitee accepts with it (POST /v1/invitations/accept). */
  token: z.string(),
});
export const AcceptInvitationRequestSchema = z.object({ token: z.string().min(1).max(200) });

/**
 * Token scopes: the workspace permissions (`agents:read`, `runs:create`, …) or `admin`, which
 * stands for all of them. A token never does more than its creator's current role allows.
 */
export const ApiTokenSchema = z.object({
  id: uuid,
  name: z.string(),
  /** `prl_` and the first characters: enough to recognise it, not to use it. */
  prefix: z.string(),
  last4: z.string(),
  scopes: z.array(z.string()),
  createdBy: uuid.nullable(),
  /**
   * The token that minted this one (null when a person did): it expires no later, has no
   * scope the parent lacks, and is revoked with it.
   */
  parentId: uuid.nullable(),
  createdAt: timestamp,
  expiresAt: timestamp,
  lastUsedAt: timestamp.nullable(),
  lastUsedIp: z.string().nullable(),
  revokedAt: timestamp.nullable(),
});
export type ApiToken = z.infer<typeof ApiTokenSchema>;
export const CreateTokenRequestSchema = z.object({
  name: z.string().min(1).max(200),
  scopes: z.array(z.string().min(1).max(100)).min(1).max(50),
  /** Default 90, at most 366. */
  expiresInDays: z.number().int().min(1).max(366).optional(),
});
export const CreatedTokenSchema = z.object({
  /** Shown once; only its hash is stored. */
  token: z.string(),
  info: ApiTokenSchema,
});
