import { randomUUID } from 'node:crypto';
import {
  type AgentDefinition,
  createNestedEvents,
  type RunAbortReason,
  type RunStore,
} from '@parley/core';
import { withTools } from '@parley/mcp';
import type { api } from '@parley/protocol';
import type { ScopeOptions, Store } from '@parley/store';
import type { FastifyBaseLogger } from 'fastify';
import { mayRunAgent } from '../auth/agent-scopes.ts';
import { type Principal, startedByOf, userIdOf } from '../auth/principal.ts';
import { HttpProblem, notFound } from '../http/problem.ts';
import { beginRunTrace, refuseRunTrace } from '../telemetry/run-spans.ts';
import { formatTraceparent, type TraceContext } from '../telemetry/trace-context.ts';
import type { Tracing } from '../telemetry/tracing.ts';
import { type createAgentCalls, handoffOf } from './agent-calls.ts';
import type { createAgentResolver } from './agent-resolver.ts';
import { agentTools } from './agent-tools.ts';
import { LiveRun } from './live-run.ts';
import { RUN_STARTS } from './merged-writes.ts';
import type { createProvisioner, Provisioned } from './provision.ts';
import type { createRunExecutor, GivenConversation } from './run-executor.ts';
import { titleOf, titleText, toContent } from './run-input.ts';
import { type RunFamily, rootFamily } from './run-tree.ts';
import { createRunWrites, storeRunPort } from './store-ports.ts';
import { runLanes, type WorkspaceBatcher } from './workspace-batcher.ts';

export interface StartRun {
  workspaceId: string;
  principal: Principal;
  scope: ScopeOptions;
  /** Agent id or name. */
  agent: string;
  body: api.StartRunRequest;
  /** The trace the run joins: the request's (its `traceparent`, or the HTTP span); else a new one. */
  trace?: TraceContext;
  /**
   * A conversation the client names by an id of its own (a useChat chat id, an A2A context),
   * as a conversation id for the resolved agent: continued when it is stored, created when it
   * is not, both in the run's first write (no lookup holds up the first token). Without it
   * and without `body.conversationId`, the run starts a new conversation.
   */
  clientConversation?: {
    idFor(agentId: string): string;
    /** The client holds no earlier turn of it: the model starts without reading a history. */
    fresh: boolean;
  };
  /**
   * The conversation as the caller sent it (stateless protocols: OpenAI Chat Completions):
   * the model sees this history instead of the stored conversation's, the messages after the
   * input (the caller's tool results), and the tools the caller runs itself.
   */
  given?: GivenConversation;
  /** The run that starts this one (an agent calling an agent): docs/multi-agent.md. */
  parent?: { run: LiveRun; family: RunFamily };
}

/** What starting a run uses of the run manager's machinery. */
export interface RunStarterDeps {
  store: Store;
  log: FastifyBaseLogger;
  /** This instance's name: the owner of the runs it starts (PostgreSQL). */
  instanceId: string;
  leaseMs: number;
  clustered: boolean;
  tracing: Tracing | undefined;
  onUserMessage:
    | ((message: {
        workspaceId: string;
        conversationId: string;
        userId: string;
        text: string;
      }) => void)
    | undefined;
  batcher: WorkspaceBatcher;
  provision: ReturnType<typeof createProvisioner>;
  agents: ReturnType<typeof createAgentResolver>;
  agentCalls: () => ReturnType<typeof createAgentCalls>;
  executor: ReturnType<typeof createRunExecutor>;
  /** Runs executing here, and those whose lease this instance holds. */
  live: Map<string, LiveRun>;
  leased: Set<string>;
  /** False once the server is shutting down: new runs are refused. */
  accepting: () => boolean;
}

/**
 * Starting a run: the agent resolved and the caller allowed, its plugins and keys loaded (a
 * missing one is a 422 before anything is written), its rows queued with the other runs
 * starting at that moment, and the run executing, its stream starting while its rows are
 * being written.
 */
export function createRunStarter(deps: RunStarterDeps) {
  const { store, log, batcher, provision, agents, executor, live, leased, accepting } = deps;
  const options = {
    instanceId: deps.instanceId,
    tracing: deps.tracing,
    onUserMessage: deps.onUserMessage,
  };
  const { clustered, leaseMs } = deps;

  type Prepared = Awaited<ReturnType<typeof prepare>>;

  /**
   * Everything a run needs before anything of it is written: the agent, the caller's right to
   * run it, its trace, its plugins and keys (a missing one is a 422).
   */
  async function prepare(input: StartRun) {
    if (!accepting())
      throw new HttpProblem('server.unavailable', 'The server is shutting down.', {
        retryAfterMs: 5_000,
      });
    const { workspaceId, principal, scope } = input;
    // Ids are chosen here, so the model call can start while the rows are being written.
    const runId = randomUUID();
    const resolved = await deps.agentCalls().resolve(input);
    const { agent, trust, definition } = resolved;
    if (!mayRunAgent(principal, agent.name))
      throw new HttpProblem('auth.forbidden', `This token may not run the agent ${agent.name}.`);
    const runTrace = beginRunTrace(
      options.tracing?.tracer,
      { agentName: definition.name, agentId: agent.id, workspaceId, runId },
      input.trace,
    );
    const refused = (error: unknown): never => {
      refuseRunTrace(runTrace, error);
      throw error;
    };
    const provisioned = await provision({
      definition,
      workspaceId,
      runId,
      scope,
      trust,
      traceparent: formatTraceparent(runTrace.context),
    }).catch(refused);
    if (input.given?.tools?.length)
      await refuseToolClash(provisioned, definition, input.given).catch(refused);
    return { runId, resolved, runTrace, provisioned };
  }

  /**
   * The run's rows (and a new conversation's), queued with the runs starting at the same
   * moment, before any of the run's own writes (the batcher keeps order): its events,
   * messages and history reads come after them. A continued conversation is checked there:
   * another agent's, or one that does not exist, refuses the run.
   */
  function queueRows(
    input: StartRun,
    { runId, resolved, runTrace }: Prepared,
    conversationId: string,
    newConversation: boolean,
  ) {
    const { workspaceId, principal, body } = input;
    const userId = userIdOf(principal);
    const { agent, version, definition } = resolved;
    const lanes = runLanes(runId, conversationId);
    return batcher.merge({ workspaceId, lanes }, RUN_STARTS, {
      conversation: {
        id: conversationId,
        agentId: agent.id,
        title: titleOf(body.input),
        ...(body.userId ? { userId: body.userId } : {}),
        ...(userId ? { createdBy: userId } : {}),
      },
      fresh: newConversation,
      check(existing) {
        const handedTo = handoffOf(existing?.metadata)?.agentId;
        if (existing && existing.agentId !== agent.id && handedTo !== agent.id)
          throw notFound('Conversation');
        if (!existing && body.conversationId) throw notFound('Conversation');
        return !existing;
      },
      run: {
        id: runId,
        agentId: agent.id,
        ...(version ? { agentVersionId: version.id } : {}),
        conversationId,
        provider: definition.model.provider,
        model: definition.model.model,
        traceId: runTrace.context.traceId,
        startedBy: startedByOf(principal),
        ...(userId ? { createdBy: userId } : {}),
        ...(clustered ? { lease: { owner: options.instanceId, ttlMs: leaseMs } } : {}),
        ...(input.parent ? { parentRunId: input.parent.run.id } : {}),
      },
    });
  }

  /** Who is told of a new run: support (an end user's message), the product funnel (a first run). */
  function announce(
    input: StartRun,
    conversationId: string,
    created: Promise<unknown>,
    { first, definition }: Pick<Prepared['resolved'], 'first' | 'definition'>,
  ) {
    const { provider } = definition.model;
    const { workspaceId, principal, body } = input;
    const userId = userIdOf(principal);
    if (body.userId) {
      const message = {
        workspaceId,
        conversationId,
        userId: body.userId,
        text: titleText(body.input),
      };
      // After the conversation is stored: what it files points at it.
      created.then(
        () => options.onUserMessage?.(message),
        () => {},
      );
    }
    if (first) {
      store.system.productEvents
        .record({
          name: 'first_run',
          ...(userId ? { userId } : {}),
          props: { provider },
        })
        .catch((error) => log.warn({ err: error }, 'could not record a product event'));
    }
  }

  async function start(input: StartRun): Promise<LiveRun> {
    const prepared = await prepare(input);
    const { runId, resolved, runTrace, provisioned } = prepared;
    const { workspaceId, principal, body, scope } = input;
    const { agent, definition } = resolved;
    agents.ran(workspaceId);
    const family: RunFamily | undefined = input.parent
      ? {
          tree: input.parent.family.tree,
          depth: input.parent.family.depth + 1,
          children: [],
          childCount: 0,
        }
      : rootFamily(definition);

    const named = body.conversationId ? undefined : input.clientConversation?.idFor(agent.id);
    const newConversation = !body.conversationId && !named;
    const conversationId = body.conversationId ?? named ?? randomUUID();
    const created = queueRows(input, prepared, conversationId, newConversation);
    const run = new LiveRun(runId, workspaceId, agent.id, conversationId);
    run.trace = runTrace.context;
    if (family) run.family = family;
    // A conversation handed to this agent still belongs to the agent that handed it over.
    if (resolved.conversationAgentId) run.conversationAgentId = resolved.conversationAgentId;
    live.set(run.id, run);
    // The agents it may call are tools whose child runs stream inside this run's stream.
    const nested = family && definition.agents.length > 0 ? createNestedEvents() : undefined;
    if (family && nested)
      provisioned.plugins = withTools(
        provisioned.plugins,
        agentTools({
          run,
          family,
          principal,
          links: definition.agents,
          nested,
          startChild: (child) => deps.agentCalls().startChild(input, run, family, child),
        }),
      );
    created.then(
      () => {
        if (!run.closed && !run.handedOver) leased.add(runId);
      },
      () => {},
    );
    const writes = createRunWrites();
    executor.launch(run, {
      ...provisioned,
      definition,
      trace: runTrace,
      input: toContent(body.input),
      ...(body.userId ? { userId: body.userId } : {}),
      scope,
      port: givenHistoryPort(
        storeRunPort(batcher, workspaceId, {
          newConversation: newConversation || !!input.clientConversation?.fresh,
          agentId: run.conversationAgentId,
          created,
          writes,
        }),
        input.given,
      ),
      writes,
      created,
      ...(input.given ? { given: input.given } : {}),
      ...(nested ? { nested } : {}),
    });
    const stopUnstored = () => {
      // The run's row could not be stored: the model call stops, and its events, which need
      // the row, fail to store too; a client streaming it sees the run end.
      run.controller.abort({ reason: 'cancelled', by: 'server' } satisfies RunAbortReason);
    };
    if (body.conversationId) {
      // An existing conversation is checked in that round: a foreign or unknown one must be an
      // HTTP 404, before the stream starts.
      try {
        await created;
      } catch (error) {
        stopUnstored();
        live.delete(runId);
        throw error;
      }
    } else {
      // A new conversation has nothing to check: the stream starts while its rows are being
      // written (under load that round can wait behind others' writes, and the first token
      // would wait with it). Only the terminal event waits for the store.
      created.catch((error: unknown) => {
        log.error({ err: error, runId }, 'the run could not be stored: stopping it');
        stopUnstored();
      });
    }
    announce(input, conversationId, created, resolved);
    return run;
  }

  return start;
}

/**
 * A caller's tool named like one of the agent's own is refused (400): the model could not
 * tell them apart, and the caller would be handed a call the agent runs itself.
 */
async function refuseToolClash(
  provisioned: Provisioned,
  definition: AgentDefinition,
  given: GivenConversation,
) {
  const own = provisioned.plugins.resolve(definition).tools;
  const index = (given.tools ?? []).findIndex((tool) => own.has(tool.name));
  if (index < 0) return;
  await provisioned.release();
  const message = `The agent has a tool named ${given.tools![index]!.name} of its own: rename yours.`;
  throw new HttpProblem('request.invalid', message, {
    errors: [{ path: `body.tools.${index}.function.name`, message }],
  });
}

/** The run port of a run whose history the caller sent: the model sees that history. */
function givenHistoryPort(port: RunStore, given: GivenConversation | undefined): RunStore {
  if (!given) return port;
  return { ...port, loadHistory: async () => given.history };
}
