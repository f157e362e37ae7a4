import { agentRoutes } from './routes/agents.ts';
import { channelRoutes } from './routes/channels.ts';
import { evalRoutes } from './routes/evals.ts';
import { identityRoutes } from './routes/identity.ts';
import { knowledgeRoutes } from './routes/knowledge.ts';
import { operationsRoutes } from './routes/operations.ts';
import { createVerbs } from './routes/verbs.ts';
import type { ClientOptions } from './transport.ts';

export * from './client-types.ts';

/**
 * The typed Parley client: one method per API route (a test checks none is missing), errors
 * as ParleyApiError with the problem's stable `code`, and runs as resumable streams.
 *
 * ```ts
 * const parley = createParleyClient({ baseUrl: 'http://127.0.0.1:4000', token: 'prl_…' });
 * const run = await parley.runs.stream(workspaceId, 'support-bot', { input: 'Hi!' });
 * for await (const event of run) if (event.type === 'text.delta') process.stdout.write(event.delta);
 * ```
 */
export function createParleyClient(options: ClientOptions) {
  const verbs = createVerbs(options);
  return {
    /** The server URL this client talks to. */
    baseUrl: verbs.t.base,
    ...identityRoutes(verbs),
    ...agentRoutes(verbs),
    ...channelRoutes(verbs),
    ...evalRoutes(verbs),
    ...knowledgeRoutes(verbs),
    ...operationsRoutes(verbs),
  };
}

export type ParleyClient = ReturnType<typeof createParleyClient>;

/** Which client method calls which API operation (the server's operationIds). */
export const OPERATIONS: Readonly<Record<string, string>> = {
  health: 'system.health',
  ready: 'system.ready',
  openapi: 'system.openapi',
  metrics: 'system.metrics',
  securityTxt: 'system.securityTxt',
  signUp: 'auth.signUp',
  logIn: 'auth.logIn',
  localSession: 'auth.localSession',
  logOut: 'auth.logOut',
  confirmOperator: 'auth.confirmOperator',
  me: 'me',
  listPlugins: 'plugins',
  listWorkspaces: 'workspaces.list',
  createWorkspace: 'workspaces.create',
  getWorkspace: 'workspaces.get',
  renameWorkspace: 'workspaces.rename',
  deleteWorkspace: 'workspaces.delete',
  listMembers: 'members.list',
  setMemberRole: 'members.setRole',
  removeMember: 'members.remove',
  listInvitations: 'invitations.list',
  createInvitation: 'invitations.create',
  revokeInvitation: 'invitations.revoke',
  acceptInvitation: 'invitations.accept',
  listTokens: 'tokens.list',
  createToken: 'tokens.create',
  revokeToken: 'tokens.revoke',
  listChannels: 'channels.list',
  checkChannelToken: 'channels.check',
  listSecrets: 'secrets.list',
  putSecret: 'secrets.put',
  deleteSecret: 'secrets.delete',
  listKnowledgeBases: 'knowledge.list',
  getKnowledgeBase: 'knowledge.get',
  putKnowledgeBase: 'knowledge.put',
  deleteKnowledgeBase: 'knowledge.delete',
  listKnowledgeDocuments: 'knowledge.documents',
  putKnowledgeDocument: 'knowledge.putDocument',
  deleteKnowledgeDocument: 'knowledge.deleteDocument',
  searchKnowledgeBase: 'knowledge.search',
  listAgents: 'agents.list',
  createAgent: 'agents.create',
  getAgent: 'agents.get',
  updateAgent: 'agents.update',
  deleteAgent: 'agents.delete',
  saveAgentDraft: 'agents.saveDraft',
  listAgentVersions: 'agents.versions',
  getAgentVersion: 'agents.version',
  deployAgent: 'agents.deploy',
  checkAgentKeys: 'agents.checkKeys',
  listConversations: 'conversations.list',
  createConversation: 'conversations.create',
  getConversation: 'conversations.get',
  listMessages: 'conversations.messages',
  startRun: 'runs.stream',
  agentMcp: 'agents.mcp',
  listRuns: 'runs.list',
  createEvalResult: 'evals.create',
  listEvalResults: 'evals.list',
  getRun: 'runs.get',
  streamRunEvents: 'runs.follow',
  cancelRun: 'runs.cancel',
  decideApproval: 'runs.decide',
  listAudit: 'audit.list',
  listSecuritySignals: 'audit.signals',
  acknowledgeSecuritySignal: 'audit.acknowledge',
  usageSummary: 'audit.usage',
  usageSeries: 'audit.usageSeries',
  productFunnel: 'instance.funnel',
  listInstanceSignals: 'instance.signals',
  securityReport: 'security.report',
  revokeAllTokens: 'security.revokeTokens',
  endMemberSessions: 'security.endSessions',
  rotateMasterKey: 'security.rotateMasterKey',
  disablePlugin: 'security.disablePlugin',
  enablePlugin: 'security.enablePlugin',
  publicTrustPage: 'trust.public',
  getTrustPage: 'trust.get',
  updateTrustPage: 'trust.update',
  listTrustVersions: 'trust.versions',
  publishTrustPage: 'trust.publish',
  postTrustStatus: 'trust.postStatus',
  upsertTrustPartner: 'trust.upsertPartner',
  deleteTrustPartner: 'trust.deletePartner',
  trustMetrics: 'trust.metrics',
  listTickets: 'support.list',
  createTicket: 'support.create',
  getTicket: 'support.get',
  updateTicket: 'support.update',
  addTicketMessage: 'support.message',
  supportOpenTicket: 'support.inbound',
  getSlaPolicy: 'support.policy',
  setSlaPolicy: 'support.setPolicy',
  listBreaches: 'support.breaches',
};

/**
 * The server's routes that speak other clients' protocols (docs/clients.md): OpenAI Chat
 * Completions, the AI SDK's UI message stream, A2A. Their clients are those protocols' own
 * SDKs (`openai`, `ai`, `@a2a-js/sdk`), so this client has no method for them.
 */
export const OTHER_PROTOCOL_OPERATIONS: readonly string[] = [
  'openaiListModels',
  'openaiGetModel',
  'openaiChatCompletions',
  'agentChat',
  'resumeAgentChat',
  'a2aAgentCard',
  'a2aJsonRpc',
  // The chat platforms' deliveries (docs/channels.md): Telegram, Slack and Discord call it.
  'channelWebhook',
];
