import type { api } from '@parley/protocol';
import type {
  Agent,
  AgentVersion,
  AgentWithVersion,
  Conversation,
  KeyCheck,
  Message,
  Run,
  RunResult,
  StartRun,
} from '../client-types.ts';
import { errorFromResponse } from '../errors.ts';
import { RunStream, type RunStreamOptions } from '../run-stream.ts';
import { type In, type Out, seg, type Verbs, ws } from './verbs.ts';

/** Agents, conversations and runs (streams that resume by themselves). */
export function agentRoutes({ t, get, send }: Verbs) {
  const openEvents = (runId: string) => (afterSeq: number, signal?: AbortSignal) =>
    t.raw('GET', `/v1/runs/${seg(runId)}/events`, {
      headers: { accept: 'text/event-stream', 'last-event-id': String(afterSeq) },
      ...(signal ? { signal } : {}),
    });
  const runActions = (runId: string) => ({
    cancel: () =>
      send<Out<typeof api.CancelResponseSchema>>('POST', `/v1/runs/${seg(runId)}/cancel`),
    decide: (callId: string, decision: 'approved' | 'denied') =>
      send<Out<typeof api.ApprovalResponseSchema>>(
        'POST',
        `/v1/runs/${seg(runId)}/approvals/${seg(callId)}`,
        {
          decision,
        },
      ),
  });

  return {
    agents: {
      list: (workspaceId: string, query: { includeArchived?: boolean } = {}) =>
        get<Agent[]>(`${ws(workspaceId)}/agents`, query),
      create: (workspaceId: string, body: In<typeof api.CreateAgentRequestSchema>) =>
        send<AgentWithVersion>('POST', `${ws(workspaceId)}/agents`, body),
      /** By id or by name. */
      get: (workspaceId: string, agent: string) =>
        get<AgentWithVersion>(`${ws(workspaceId)}/agents/${seg(agent)}`),
      update: (workspaceId: string, agent: string, body: In<typeof api.UpdateAgentRequestSchema>) =>
        send<Agent>('PATCH', `${ws(workspaceId)}/agents/${seg(agent)}`, body),
      delete: (workspaceId: string, agent: string) =>
        send<void>('DELETE', `${ws(workspaceId)}/agents/${seg(agent)}`),
      saveDraft: (workspaceId: string, agent: string, definition: Record<string, unknown>) =>
        send<Agent>('PUT', `${ws(workspaceId)}/agents/${seg(agent)}/draft`, { definition }),
      versions: (workspaceId: string, agent: string) =>
        get<AgentVersion[]>(`${ws(workspaceId)}/agents/${seg(agent)}/versions`),
      version: (workspaceId: string, agent: string, version: number) =>
        get<AgentVersion>(`${ws(workspaceId)}/agents/${seg(agent)}/versions/${version}`),
      /**
       * Checks the agent's model keys (its draft's, else its deployed version's) with one cheap
       * request each, made by the server: ok, rejected, rate_limited, unreachable… never the key.
       */
      /**
       * One JSON-RPC message to the agent's MCP endpoint (Streamable HTTP); MCP clients use the
       * URL `${baseUrl}/v1/workspaces/:workspaceId/agents/:agent/mcp` with the token directly.
       */
      mcp: (
        workspaceId: string,
        agent: string,
        message: { jsonrpc: '2.0'; [key: string]: unknown },
      ) =>
        send<Record<string, unknown> | undefined>(
          'POST',
          `${ws(workspaceId)}/agents/${seg(agent)}/mcp`,
          message,
        ),
      checkKeys: (workspaceId: string, agent: string) =>
        send<KeyCheck>('POST', `${ws(workspaceId)}/agents/${seg(agent)}/key-check`),
      /** Deploys the definition (or the draft); `created: false` when nothing changed. */
      deploy: (workspaceId: string, agent: string, body: In<typeof api.DeployRequestSchema> = {}) =>
        send<Out<typeof api.DeployResponseSchema>>(
          'POST',
          `${ws(workspaceId)}/agents/${seg(agent)}/versions`,
          body,
        ),
    },

    conversations: {
      list: (
        workspaceId: string,
        query: {
          agentId?: string;
          limit?: number;
          before?: string;
          /** The last conversation's id: the next page. */
          beforeId?: string;
        } = {},
      ) => get<Conversation[]>(`${ws(workspaceId)}/conversations`, query),
      create: (workspaceId: string, body: In<typeof api.CreateConversationRequestSchema>) =>
        send<Conversation>('POST', `${ws(workspaceId)}/conversations`, body),
      get: (workspaceId: string, conversationId: string) =>
        get<Conversation>(`${ws(workspaceId)}/conversations/${seg(conversationId)}`),
      messages: (
        workspaceId: string,
        conversationId: string,
        query: { afterPosition?: number; last?: number; limit?: number } = {},
      ) =>
        get<Message[]>(`${ws(workspaceId)}/conversations/${seg(conversationId)}/messages`, query),
    },

    runs: {
      /** Starts a run and streams it; the stream resumes by itself after a dropped connection. */
      async stream(
        workspaceId: string,
        agent: string,
        body: StartRun,
        streamOptions: RunStreamOptions = {},
      ) {
        const response = await t.raw('POST', `${ws(workspaceId)}/agents/${seg(agent)}/runs`, {
          body,
          headers: { accept: 'text/event-stream' },
          ...(streamOptions.signal ? { signal: streamOptions.signal } : {}),
        });
        const runId = response.headers.get('x-parley-run-id');
        if (!runId) throw await errorFromResponse(response);
        return new RunStream(runId, response, openEvents(runId), runActions(runId), streamOptions);
      },
      /** Starts a run and waits for its final answer (JSON, no stream). */
      start: (workspaceId: string, agent: string, body: StartRun) =>
        t.json<RunResult>('POST', `${ws(workspaceId)}/agents/${seg(agent)}/runs`, { body }),
      /** Follows an existing run from `afterSeq` (0: from the start) to its end. */
      follow(runId: string, afterSeq = 0, streamOptions: RunStreamOptions = {}) {
        const stream = new RunStream(
          runId,
          undefined,
          openEvents(runId),
          runActions(runId),
          streamOptions,
        );
        stream.state.lastSeq = afterSeq;
        return stream;
      },
      list: (
        workspaceId: string,
        query: {
          agentId?: string;
          conversationId?: string;
          status?: Run['status'];
          limit?: number;
          before?: string;
          /** The last run's id: the next page (runs created together are not skipped). */
          beforeId?: string;
        } = {},
      ) => get<Run[]>(`${ws(workspaceId)}/runs`, query),
      get: (runId: string) => get<Run>(`/v1/runs/${seg(runId)}`),
      cancel: (runId: string) => runActions(runId).cancel(),
      decide: (runId: string, toolCallId: string, decision: 'approved' | 'denied') =>
        runActions(runId).decide(toolCallId, decision),
    },
  };
}
