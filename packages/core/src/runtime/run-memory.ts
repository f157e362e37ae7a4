import type { MemoryScope, PayloadOf } from '@parley/protocol';
import type { MemoryScopeKind, RecallResult } from '../memory/memory-store.ts';
import type { ToolMemory } from '../tools/tool-context.ts';
import type { RunCapabilities, RunRequest } from './run-agent.ts';

const SUMMARY_LIMIT = 120;
const MEMORY_TEXT_LIMIT = 4_000;

/**
 * Memory for one run: scoped to the run's workspace, agent, user and conversation, embedding
 * when the run can embed (else full-text), and reporting every write as a `memory.write`.
 */
export function createRunMemory(options: {
  request: RunRequest;
  capabilities: RunCapabilities;
  onWrite: (event: PayloadOf<'memory.write'>) => void;
}) {
  const { request, capabilities } = options;
  const scopeFor = (kind: MemoryScopeKind): MemoryScope => {
    const scope: MemoryScope = { workspaceId: request.workspaceId, agentId: request.agentId };
    if (kind !== 'agent' && request.userId !== undefined) scope.userId = request.userId;
    if (kind === 'conversation') scope.conversationId = request.conversationId;
    return scope;
  };
  const embedOne = async (text: string) =>
    capabilities.embed ? (await capabilities.embed([text]))[0] : undefined;

  const recall = async (
    query: string,
    { limit }: { limit: number },
  ): Promise<RecallResult & { skipped?: true }> => {
    const memory = capabilities.memory;
    if (!memory) return { hits: [], method: 'fulltext', skipped: true };
    // An agent with no memories yet (every new agent) has nothing to embed a query for.
    if ((await memory.mayHaveMemories?.(request.agentId)) === false)
      return { hits: [], method: 'fulltext', skipped: true };
    let embedding: number[] | undefined;
    let reason = capabilities.embedNote;
    try {
      embedding = await embedOne(query);
    } catch (error) {
      // The embedding endpoint failing costs the run its vectors, not its answer.
      reason = `the query could not be embedded (${error instanceof Error ? error.message : String(error)})`;
    }
    const search = {
      text: query,
      ...(embedding ? { embedding } : {}),
      agentId: request.agentId,
      ...(request.userId === undefined ? {} : { userId: request.userId }),
      conversationId: request.conversationId,
      limit,
    };
    if (memory.recall) {
      const result = await memory.recall(search);
      return embedding || !reason ? result : { ...result, reason };
    }
    const hits = await memory.search(search);
    return {
      hits,
      method: embedding ? 'vector' : 'fulltext',
      ...(reason && !embedding ? { reason } : {}),
    };
  };

  return {
    recall,
    /** The memory API handed to a tool (or an evaluator, with no tool call id). */
    api(toolCallId: string | undefined): ToolMemory {
      return {
        remember: async (text, { kind = 'note', scope = 'user' } = {}) => {
          const memory = capabilities.memory;
          if (!memory) throw new Error('memory is not enabled for this agent');
          const trimmed = text.trim().slice(0, MEMORY_TEXT_LIMIT);
          if (!trimmed) throw new Error('cannot remember an empty text');
          // Unembedded when the endpoint fails: full-text still finds it, a re-embed fixes it.
          const embedding = await embedOne(trimmed).catch(() => undefined);
          const record = await memory.write({
            text: trimmed,
            kind,
            scope: scopeFor(scope),
            ...(embedding ? { embedding } : {}),
          });
          options.onWrite({
            type: 'memory.write',
            memoryId: record.id,
            op: 'create',
            scope: record.scope,
            kind,
            summary:
              trimmed.length > SUMMARY_LIMIT ? `${trimmed.slice(0, SUMMARY_LIMIT - 1)}…` : trimmed,
            bytes: new TextEncoder().encode(trimmed).length,
            ...(toolCallId ? { cause: { toolCallId } } : {}),
          });
          return record;
        },
        recall: async (query, { limit = 5 } = {}) => (await recall(query, { limit })).hits,
      };
    },
  };
}
