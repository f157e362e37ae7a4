import type { RouteSpec } from '../http/route.ts';
import { a2aRoutes } from './a2a.ts';
import { agentRoutes } from './agents.ts';
import { authRoutes } from './auth.ts';
import { channelRoutes } from './channels.ts';
import { chatRoutes } from './chat.ts';
import { conversationRoutes } from './conversations.ts';
import { evalRoutes } from './evals.ts';
import { identityRoutes } from './identity.ts';
import { knowledgeRoutes } from './knowledge.ts';
import { mcpRoutes } from './mcp.ts';
import { observabilityRoutes } from './observability.ts';
import { openAiRoutes } from './openai.ts';
import { pluginRoutes } from './plugins.ts';
import { runRoutes } from './runs.ts';
import { secretRoutes } from './secrets.ts';
import { securityRoutes } from './security.ts';
import { supportRoutes } from './support.ts';
import { systemRoutes } from './system.ts';
import { trustRoutes } from './trust.ts';
import { wellKnownRoutes } from './well-known.ts';

/** The route table: every HTTP route the server has. The authorization matrix reads it. */
export const ROUTES: readonly RouteSpec[] = [
  ...systemRoutes,
  ...wellKnownRoutes,
  ...authRoutes,
  ...identityRoutes,
  ...secretRoutes,
  ...agentRoutes,
  ...channelRoutes,
  ...conversationRoutes,
  ...knowledgeRoutes,
  ...runRoutes,
  ...evalRoutes,
  ...chatRoutes,
  ...a2aRoutes,
  ...mcpRoutes,
  ...openAiRoutes,
  ...observabilityRoutes,
  ...pluginRoutes,
  ...securityRoutes,
  ...trustRoutes,
  ...supportRoutes,
];
