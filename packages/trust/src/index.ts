/*
 * @parley/trust: what a workspace tells its users to trust and how it answers them. The trust
 * page as the public sees it (page.ts), the support inbox and its first-response SLA
 * (support/: the state machine, the desk that applies it, the classifier, tickets from agent
 * conversations, the breach scheduler) and the trust metrics (metrics/). The store keeps the
 * rows; the server's routes call these functions; the contract is @parley/protocol's
 * api/trust.ts and api/support.ts. The scam-link guard is a plugin (@parley/plugin-scam-guard).
 */

export { groupRepeatedQuestions, type RepeatedQuestion } from './metrics/repeated-questions.ts';
export {
  SCAM_SIGNAL_KINDS,
  type ScamVerdictDay,
  scamVerdictsPerDay,
} from './metrics/scam-verdicts.ts';
export {
  AGE_BANDS,
  type AgeBand,
  computeSupportMetrics,
  type SupportMetrics,
} from './metrics/support.ts';
export { computeTrustMetrics, listScamSignals, type TrustMetrics } from './metrics/trust.ts';
export {
  type PublicTrustDocument,
  publicTrustDocument,
  renderTrustHtml,
  STATUS_OVERDUE_MS,
  TRUST_PAGE_CSP,
} from './page.ts';
export {
  AGENT_CHANNEL,
  createConversationTicketing,
  type TrustLog,
  type UserMessage,
} from './support/agent-tickets.ts';
export { type Classification, classifySupportRequest } from './support/classifier.ts';
export {
  type NewTicket,
  type SupportDesk,
  supportDesk,
  type TicketMessage,
  type TicketUpdate,
} from './support/desk.ts';
export { type FiledRequest, fileSupportRequest, type SupportRequest } from './support/inbound.ts';
export {
  createSlaScheduler,
  type SlaScheduler,
  type SlaSchedulerOptions,
  type TickRecord,
} from './support/scheduler.ts';
export { DONE_STATUSES, firstResponseDue, OPEN_STATUSES, type SlaStep } from './support/sla.ts';
