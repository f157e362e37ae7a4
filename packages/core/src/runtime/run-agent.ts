import {
  addUsage,
  carriesContent,
  createEventStamper,
  emptyUsage,
  type FinishReason,
  type ParleyError,
  type ParleyEvent,
  type ParleyEventPayload,
  type PayloadOf,
  streamError,
  type Usage,
} from '@parley/protocol';
import type {
  AssistantReasoning,
  AssistantToolCall,
  ContentPart,
  LanguageModel,
  ModelMessage,
  ModelTool,
} from '@parley/providers';
import type { AgentDefinition, ModelRef } from '../agent/definition.ts';
import { type KnowledgeRetriever, knowledgeContext } from '../knowledge/knowledge.ts';
import { extractUserFacts } from '../memory/extract.ts';
import type { MemoryHit, MemoryStore } from '../memory/memory-store.ts';
import type { PluginHost } from '../plugins/plugin-host.ts';
import { toModelTool, validateToolArgs } from '../tools/define-tool.ts';
import type { ApprovalGate } from './approvals.ts';
import { inputText, systemPrompt, trimHistory, userMessage } from './context.ts';
import { executeTool, type ToolOutcome } from './execute-tool.ts';
import { applyReplacements, combineInboundGuards } from './inbound-guard.ts';
import type { NestedEvents } from './nested-events.ts';
import { type ResumePoint, resumeHead, type UnresolvedCall } from './resume.ts';
import { createRunMemory } from './run-memory.ts';
import type { RunEnd, RunStore } from './run-store.ts';

/** What a run may use. Core knows no HTTP and no users: the server passes these in. */
export interface RunCapabilities {
  /** Makes the model for a reference (createModel with the workspace's key, or a plugin's). */
  models: (ref: ModelRef) => LanguageModel;
  /** Persistence for one workspace. */
  store: RunStore;
  plugins: PluginHost;
  memory?: MemoryStore;
  /** Embeds texts for memory; without it memory uses full-text search. */
  embed?: (texts: string[]) => Promise<number[][]>;
  /** Why the run cannot embed (no embedding model, no key): reported on `memory.recall`. */
  embedNote?: string;
  /** Retrieves knowledge-base chunks for the input (the agent's bases); absent: none. */
  knowledge?: KnowledgeRetriever;
  approvals?: ApprovalGate;
  signal?: AbortSignal;
  /** Monotonic clock in ms (default performance.now). */
  now?: () => number;
  /** Events tools produce while they run (child runs' events), stamped into the stream. */
  nested?: NestedEvents;
  newId?: (prefix: string) => string;
}

export interface RunRequest {
  agent: AgentDefinition;
  agentId: string;
  workspaceId: string;
  conversationId: string;
  userId?: string;
  input: string | ContentPart[];
  runId?: string;
  /** The run's W3C trace id, announced in `run.start` (the server's tracing). */
  traceId?: string;
  /**
   * Continue a run another instance began and stopped executing (failover): its stored log's
   * resume point. The run's rows and input are stored already (the store port knows); the
   * stream goes on after the log, with `run.gap` first when that instance may have shown
   * events it never stored, then `step.reset` (reason `failover`) for a step left open.
   */
  resume?: RunResume;
  /**
   * Messages after the input that the caller already has (stateless protocols such as OpenAI
   * Chat Completions send the whole conversation): the assistant's calls of the caller's own
   * tools and their results. The model sees them after the input; they are stored with the run.
   */
  after?: ModelMessage[];
  /**
   * Tools the caller runs itself (a Chat Completions client's `tools`): offered to the model
   * beside the agent's. When the model calls one, the run ends after that step (finish reason
   * `tool-calls`, the call in its events) for the caller to run it; the agent's own tools
   * called in the same step run as usual first.
   */
  clientTools?: ModelTool[];
}

export interface RunResume {
  point: ResumePoint;
  /** The seq the previous instance may have shown up to: a `run.gap` after the stored log. */
  gapUpTo?: number;
}

type StepResult =
  | {
      kind: 'finished';
      finishReason: FinishReason;
      text: string;
      toolCalls: PendingCall[];
      reasoning: AssistantReasoning[];
    }
  | { kind: 'error'; error: ParleyError; text: string }
  | { kind: 'aborted'; text: string };

interface PendingCall {
  id: string;
  name: string;
  args: unknown;
  /** Set when the call was rejected (bad JSON, schema, unknown tool): fed back as an error. */
  invalid?: string;
  /** A call of one of the caller's own tools (`clientTools`): the caller runs it. */
  client?: boolean;
}

/**
 * Why a run was aborted, as the caller passes it to `AbortController.abort(reason)`: the
 * server aborts with `{ reason: 'shutdown', by: 'server' }` or `{ reason: 'cancelled', by }`.
 * Any other abort reason reports as `cancelled`.
 */
export interface RunAbortReason {
  reason: 'cancelled' | 'timeout' | 'shutdown';
  by?: string;
}

function abortDetails(signal: AbortSignal): RunAbortReason {
  const r = signal.reason as Partial<RunAbortReason> | undefined;
  if (
    r &&
    typeof r === 'object' &&
    (r.reason === 'timeout' || r.reason === 'shutdown' || r.reason === 'cancelled')
  ) {
    return { reason: r.reason, ...(typeof r.by === 'string' ? { by: r.by.slice(0, 200) } : {}) };
  }
  return { reason: 'cancelled' };
}

/** What running a step's tools gives: their messages, an abort, or a tool's run-ending error. */
type ToolsOutcome = ModelMessage[] | 'aborted' | { failed: ParleyError };

const defaultId = (prefix: string) => `${prefix}_${crypto.randomUUID().replaceAll('-', '')}`;
const APPROVAL_TIMEOUT_MS = 5 * 60_000;

/**
 * The run loop. Yields Parley Stream v1 events (seq and t assigned) from `run.start` to exactly
 * one terminal: context assembly → model step → tool calls validated and run in parallel →
 * results fed back → next step, until the model stops or the step limit. A retryable provider
 * error before the first token falls back to the next model; cancellation ends with
 * `run.abort`. The user message, the assistant messages (partial on failure) and the run are
 * persisted through `capabilities.store`.
 */
export async function* runAgent(
  request: RunRequest,
  capabilities: RunCapabilities,
): AsyncGenerator<ParleyEvent> {
  const { agent, conversationId } = request;
  const newId = capabilities.newId ?? defaultId;
  const now = capabilities.now ?? (() => performance.now());
  const signal = capabilities.signal ?? new AbortController().signal;
  const runId = request.runId ?? newId('run');
  const resume = request.resume;
  const stamper = createEventStamper({
    runId,
    now,
    ...(resume
      ? {
          lastSeq: resume.gapUpTo ?? resume.point.lastSeq,
          resume: {
            lastT: resume.point.lastT,
            stepOrdinal: resume.point.stepOrdinal,
            ...(resume.point.openStep ? { openStepId: resume.point.openStep.stepId } : {}),
          },
        }
      : {}),
  });
  const resolved = capabilities.plugins.resolve(agent); // throws AgentConfigError before any event
  const clientTools = new Map(
    (request.clientTools ?? [])
      .filter((tool) => !resolved.tools.has(tool.name))
      .map((tool) => [tool.name, tool]),
  );
  const tools = [
    ...[...resolved.tools.values()].map((bound) => toModelTool(bound.tool)),
    ...clientTools.values(),
  ];
  // The agent's plugins' inbound guards (the scam-link guard is one), with the host's services.
  const inbound = combineInboundGuards(resolved.inboundGuards, capabilities.plugins.guards, {
    runId,
    agentId: request.agentId,
    conversationId,
  });
  const pendingEvents: ParleyEventPayload[] = [];
  const memory = createRunMemory({
    request,
    capabilities,
    onWrite: (payload) => pendingEvents.push(payload),
  });
  const emit = (payload: ParleyEventPayload) => stamper.stamp(payload);
  /** The input as plain text, for recall, context providers and evaluators. */
  const plainInput = inputText(request.input);
  const started = now();

  let usage: Usage = resume?.point.usage ?? emptyUsage();
  let ttftMs: number | undefined;
  let steps = resume?.point.finishedSteps ?? 0;
  let output = resume?.point.output ?? '';
  let savedPartial = false;

  if (resume) yield* resumeHead(resume, emit);
  else
    yield emit({
      type: 'run.start',
      agentId: request.agentId,
      conversationId,
      startedAt: new Date().toISOString(),
      ...(request.traceId ? { traceId: request.traceId } : {}),
    });

  const savePartial = async (text: string) => {
    if (savedPartial || !text) return;
    savedPartial = true;
    await capabilities.store.saveMessage({
      conversationId,
      runId,
      status: 'partial',
      message: { role: 'assistant', content: text },
    });
  };

  /** Ends the run with its terminal event, once the store has everything before it. */
  const end = async function* (terminal: RunEnd) {
    await capabilities.store.finishRun(runId, terminal);
    yield emit(terminal);
  };
  const abort = async function* (partialText: string) {
    await savePartial(partialText);
    yield* end({ type: 'run.abort', ...abortDetails(signal) });
  };

  try {
    const input = userMessage(request.input);
    // What the first model request needs is prepared at the same time: the history (and the
    // run's own rows after it), recalled memories (skipped while the agent has none), the
    // guard's verdict and the context providers' texts.
    // Knowledge retrieval runs beside them; its event follows the recall's.
    const knowledgeStarted = now();
    const retrieving = capabilities.knowledge?.(plainInput);
    retrieving?.catch(() => {}); // awaited below; an early failure must not go unhandled
    const [history, recall, guarded, providedTexts] = await Promise.all([
      (async () => {
        const loaded = await capabilities.store.loadHistory(conversationId);
        await capabilities.store.startRun({
          runId,
          agentId: request.agentId,
          conversationId,
          provider: agent.model.provider,
          model: agent.model.model,
        });
        await capabilities.store.saveMessage({
          conversationId,
          runId,
          status: 'complete',
          message: input,
        });
        return loaded;
      })(),
      agent.memory.enabled && capabilities.memory && agent.memory.recallLimit > 0
        ? (async () => {
            const t0 = now();
            const search = await memory.recall(plainInput, { limit: agent.memory.recallLimit });
            return { ...search, latencyMs: Math.round((now() - t0) * 1000) / 1000 };
          })()
        : undefined,
      inbound?.inspect({ text: plainInput, agent, signal }),
      Promise.all(
        resolved.contextProviders.map(async (provider) =>
          provider.provide({ agent, input: plainInput, signal }),
        ),
      ),
    ]);

    const recalled: MemoryHit[] = recall?.hits ?? [];
    if (recall && !recall.skipped)
      yield emit({
        type: 'memory.recall',
        hits: recalled.map((hit) => ({
          memoryId: hit.id,
          score: Math.round(hit.score * 1000) / 1000,
        })),
        method: recall.method,
        ...(recall.reason ? { reason: recall.reason } : {}),
        latencyMs: recall.latencyMs,
      });

    const retrieved = await retrieving;
    if (retrieved)
      yield emit({
        type: 'knowledge.retrieve',
        ...retrieved,
        latencyMs: Math.round((now() - knowledgeStarted) * 1000) / 1000,
      });
    const provided: string[] = [];
    // The model sees the guarded message (flagged links replaced); the store keeps the original.
    let modelInput = input;
    if (guarded) {
      if (guarded.instruction) provided.push(guarded.instruction);
      modelInput = userMessage(applyReplacements(request.input, guarded.replacements));
    }
    for (const text of providedTexts) if (text) provided.push(text);
    const knowledgeText = retrieved && knowledgeContext(retrieved);
    if (knowledgeText) provided.push(knowledgeText);
    const system = systemPrompt(agent, provided, recalled);
    const rewrite = inbound?.rewrite;
    const modelHistory = rewrite
      ? history.map(
          (message): ModelMessage =>
            message.role === 'user'
              ? {
                  ...message,
                  content: applyReplacements(
                    message.content,
                    rewrite({ text: inputText(message.content) }),
                  ),
                }
              : message,
        )
      : history;
    const messages: ModelMessage[] = [
      { role: 'system', content: system },
      ...trimHistory(agent, system, modelHistory, modelInput),
      modelInput,
    ];
    if (resume) {
      // The run's own finished steps, then the calls the stopped instance left without results.
      messages.push(...resume.point.messages);
      const interrupted = yield* resolveInterrupted(resume.point.unresolved);
      if (interrupted === 'aborted') return yield* abort('');
      for (const message of interrupted) {
        messages.push(message);
        await capabilities.store.saveMessage({
          conversationId,
          runId,
          status: 'complete',
          message,
        });
      }
    }

    for (const message of request.after ?? []) {
      messages.push(message);
      await capabilities.store.saveMessage({ conversationId, runId, status: 'complete', message });
    }

    let finishReason: FinishReason | undefined;
    for (
      let stepIndex = resume?.point.finishedSteps ?? 0;
      stepIndex < agent.maxSteps;
      stepIndex++
    ) {
      const step: StepResult = yield* modelStep(stepIndex, messages);
      steps++;
      // Earlier steps are already saved: only this step's text is new.
      if (step.kind === 'aborted') return yield* abort(step.text);
      if (step.kind === 'error') {
        await savePartial(step.text);
        return yield* end({
          type: 'run.error',
          error: step.error,
          partial: (output + step.text).length > 0,
        });
      }
      output += step.text;
      const assistant: ModelMessage = {
        role: 'assistant',
        content: step.text,
        ...(step.toolCalls.length
          ? {
              toolCalls: step.toolCalls.map(
                ({ id, name, args }): AssistantToolCall => ({ id, name, args: args ?? {} }),
              ),
            }
          : {}),
        ...(step.reasoning.length ? { reasoning: step.reasoning } : {}),
      };
      messages.push(assistant);
      await capabilities.store.saveMessage({
        conversationId,
        runId,
        status: 'complete',
        message: assistant,
      });
      finishReason = step.finishReason;
      if (step.toolCalls.length === 0) break;
      const forCaller = step.toolCalls.some((call) => call.client);
      const own = step.toolCalls.filter((call) => !call.client);

      const toolMessages: ToolsOutcome = own.length ? yield* runTools(own) : [];
      if (toolMessages === 'aborted') return yield* abort('');
      if ('failed' in toolMessages)
        return yield* end({
          type: 'run.error',
          error: toolMessages.failed,
          partial: output.length > 0,
        });
      for (const message of toolMessages) {
        messages.push(message);
        await capabilities.store.saveMessage({
          conversationId,
          runId,
          status: 'complete',
          message,
        });
      }
      // A tool that hands the conversation over ends the run: the other agent answered.
      const handedOver = (call: PendingCall) =>
        !call.invalid &&
        resolved.tools.get(call.name)?.tool.endsRun &&
        !toolMessages.some((m) => m.role === 'tool' && m.toolCallId === call.id && m.isError);
      if (own.some(handedOver)) {
        finishReason = { unified: 'other', raw: 'handoff' };
        break;
      }
      // The caller runs its tools and sends their results in a request of its own.
      if (forCaller) {
        finishReason = {
          unified: 'tool-calls',
          ...(finishReason.raw ? { raw: finishReason.raw } : {}),
        };
        break;
      }
      if (stepIndex === agent.maxSteps - 1) finishReason = { unified: 'other', raw: 'step_limit' };
    }

    if (agent.memory.enabled && capabilities.memory) {
      const evaluators = agent.memory.autoExtract
        ? [extractUserFacts, ...resolved.evaluators]
        : resolved.evaluators;
      for (const evaluator of evaluators) {
        await evaluator.evaluate({
          agent,
          input: plainInput,
          output,
          memory: memory.api(undefined),
          signal,
        });
        while (pendingEvents.length) yield emit(pendingEvents.shift()!);
      }
    }

    yield* end({
      type: 'run.finish',
      finishReason: finishReason ?? { unified: 'other' },
      usage,
      timing: {
        durationMs: Math.round((now() - started) * 1000) / 1000,
        ...(ttftMs === undefined ? {} : { ttftMs }),
        steps,
      },
    });
  } catch (error) {
    // Whatever broke (a store write, a context provider), the stream still ends with exactly one terminal.
    const message = error instanceof Error ? error.message : String(error);
    yield emit({
      type: 'run.error',
      error: streamError('internal', message),
      partial: output.length > 0,
    });
  }

  /**
   * The tool calls a stopped instance started and whose results were never stored: an
   * idempotent tool runs again; any other is not run twice, and the model hears it was
   * interrupted.
   */
  async function* resolveInterrupted(
    calls: readonly UnresolvedCall[],
  ): AsyncGenerator<ParleyEvent, ModelMessage[] | 'aborted'> {
    if (calls.length === 0) return [];
    const again = calls.filter((call) => resolved.tools.get(call.name)?.tool.idempotent);
    const rerun = again.length ? yield* runTools(again.map((call) => ({ ...call }))) : [];
    if (rerun === 'aborted' || 'failed' in rerun) return 'aborted';
    const messages: ModelMessage[] = [];
    for (const call of calls) {
      const done = rerun.find((m) => m.role === 'tool' && m.toolCallId === call.id);
      if (done) {
        messages.push(done);
        continue;
      }
      const error =
        'interrupted: the server running this call stopped before its result was stored, and the tool is not declared idempotent, so it was not run again';
      yield emit({ type: 'tool.result', toolCallId: call.id, ok: false, error, durationMs: 0 });
      messages.push({
        role: 'tool',
        toolCallId: call.id,
        name: call.name,
        isError: true,
        content: `Error: ${error}.`,
      });
    }
    return messages;
  }

  /** One model call, with fallback to the next model on a retryable error before any content. */
  async function* modelStep(
    stepIndex: number,
    messages: ModelMessage[],
  ): AsyncGenerator<ParleyEvent, StepResult> {
    const refs = [agent.model, ...agent.fallbackModels];
    let attemptBase = 0;
    for (let m = 0; m < refs.length; m++) {
      const ref = refs[m]!;
      const model = capabilities.models(ref);
      let text = '';
      let sawContent = false;
      let lastAttempt = 1;
      const calls: PendingCall[] = [];
      const reasoning = new Map<string, AssistantReasoning>();
      let finish: PayloadOf<'step.finish'> | undefined;
      const stream = model.stream(
        {
          messages,
          ...(tools.length ? { tools, toolChoice: 'auto' as const } : {}),
          ...(ref.params.temperature === undefined ? {} : { temperature: ref.params.temperature }),
          ...(ref.params.maxOutputTokens === undefined
            ? {}
            : { maxOutputTokens: ref.params.maxOutputTokens }),
          ...(ref.params.reasoning ? { reasoning: ref.params.reasoning } : {}),
        },
        { signal, stepIndex },
      );
      for await (const payload of stream) {
        if (!sawContent && carriesContent(payload)) {
          sawContent = true;
          ttftMs ??= Math.round((now() - started) * 1000) / 1000;
        }
        switch (payload.type) {
          case 'step.start':
            lastAttempt = payload.attempt;
            yield emit({ ...payload, attempt: attemptBase + payload.attempt });
            continue;
          case 'step.finish':
            finish = payload;
            break;
          case 'step.reset':
            text = '';
            sawContent = false;
            calls.length = 0;
            reasoning.clear();
            yield emit(payload);
            continue;
          case 'text.delta':
            text += payload.delta;
            yield emit(payload);
            continue;
          case 'reasoning.delta': {
            const part = reasoning.get(payload.partId) ?? { text: '' };
            part.text += payload.delta;
            reasoning.set(payload.partId, part);
            yield emit(payload);
            continue;
          }
          case 'reasoning.end':
            if (payload.replay)
              reasoning.set(payload.partId, {
                text: reasoning.get(payload.partId)?.text ?? '',
                replay: payload.replay,
              });
            yield emit(payload);
            continue;
          case 'tool_call.complete': {
            if (clientTools.has(payload.name)) {
              calls.push({
                id: payload.toolCallId,
                name: payload.name,
                args: payload.args,
                client: true,
              });
              yield emit(payload);
              continue;
            }
            const bound = resolved.tools.get(payload.name);
            const verdict = bound
              ? validateToolArgs(bound.tool, payload.args)
              : {
                  ok: false as const,
                  reason: `unknown tool ${payload.name}; available: ${[...resolved.tools.keys(), ...clientTools.keys()].join(', ') || 'none'}`,
                };
            if (verdict.ok) {
              calls.push({ id: payload.toolCallId, name: payload.name, args: verdict.value });
              yield emit(payload);
            } else {
              calls.push({
                id: payload.toolCallId,
                name: payload.name,
                args: {},
                invalid: verdict.reason,
              });
              yield emit({
                type: 'tool_call.invalid',
                toolCallId: payload.toolCallId,
                name: payload.name,
                argsText: payload.argsText,
                reason: verdict.reason,
              });
            }
            continue;
          }
          case 'tool_call.invalid':
            calls.push({
              id: payload.toolCallId,
              name: payload.name,
              args: {},
              invalid: payload.reason,
            });
            yield emit(payload);
            continue;
          default:
            yield emit(payload);
            continue;
        }
        break;
      }
      finish ??= {
        type: 'step.finish',
        finishReason: { unified: 'error' },
        timing: { durationMs: 0, retries: 0 },
        error: streamError(
          'internal',
          `the ${ref.provider} model ended its stream without step.finish`,
        ),
      };
      if (finish.usage) usage = addUsage(usage, finish.usage);
      if (finish.error) {
        if (finish.error.code === 'cancelled' || signal.aborted) return { kind: 'aborted', text };
        if (finish.error.retryable && !sawContent && m < refs.length - 1) {
          yield emit({ type: 'step.reset', reason: 'fallback', error: finish.error });
          attemptBase += lastAttempt;
          continue;
        }
        yield emit(finish);
        return { kind: 'error', error: finish.error, text };
      }
      yield emit(finish);
      return {
        kind: 'finished',
        finishReason: finish.finishReason,
        text,
        toolCalls: calls,
        reasoning: [...reasoning.values()],
      };
    }
    // Unreachable: the last model either finishes or errors.
    return { kind: 'error', error: streamError('internal', 'no model left to try'), text: '' };
  }

  /** Asks for approvals, runs the approved calls in parallel, yields each result as it lands. */
  async function* runTools(calls: PendingCall[]): AsyncGenerator<ParleyEvent, ToolsOutcome> {
    const results = new Map<string, ModelMessage>();
    const runnable: PendingCall[] = [];
    for (const call of calls) {
      if (call.invalid) {
        results.set(call.id, {
          role: 'tool',
          toolCallId: call.id,
          name: call.name,
          isError: true,
          content: `Error: ${call.invalid}. Fix the arguments and call the tool again.`,
        });
        continue;
      }
      const bound = resolved.tools.get(call.name)!;
      if (bound.tool.requiresApproval || request.agent.requireApproval.includes(bound.tool.name)) {
        const approvalId = newId('apr');
        yield emit({
          type: 'tool.approval_requested',
          toolCallId: call.id,
          approvalId,
          timeoutMs: APPROVAL_TIMEOUT_MS,
        });
        const decision = capabilities.approvals
          ? await capabilities.approvals.wait(approvalId, APPROVAL_TIMEOUT_MS, signal)
          : 'denied';
        if (signal.aborted) return 'aborted';
        if (decision !== 'approved') {
          const error =
            decision === 'timeout'
              ? 'no one approved this call in time'
              : 'a person denied this call';
          yield emit({ type: 'tool.result', toolCallId: call.id, ok: false, error, durationMs: 0 });
          results.set(call.id, {
            role: 'tool',
            toolCallId: call.id,
            name: call.name,
            isError: true,
            content: `Error: ${error}.`,
          });
          continue;
        }
      }
      runnable.push(call);
    }

    const running = new Map<string, Promise<{ call: PendingCall; outcome: ToolOutcome }>>();
    for (const call of runnable) {
      const bound = resolved.tools.get(call.name)!;
      running.set(
        call.id,
        executeTool(bound, call, {
          agent,
          request,
          plugins: capabilities.plugins,
          signal,
          memory: memory.api(call.id),
          now,
        }).then((outcome) => ({ call, outcome })),
      );
    }
    const aborted = new Promise<'aborted'>((resolve) => {
      if (signal.aborted) resolve('aborted');
      signal.addEventListener('abort', () => resolve('aborted'), { once: true });
    });
    const nested = capabilities.nested;
    while (running.size > 0) {
      const done = await Promise.race([
        ...running.values(),
        aborted,
        ...(nested ? [nested.ready().then(() => 'nested' as const)] : []),
      ]);
      if (done === 'aborted') return 'aborted';
      // What the tools produced meanwhile (child runs' events) goes first, in order.
      if (nested) for (const payload of nested.take()) yield emit(payload);
      const failed = nested?.failure();
      if (failed) return { failed };
      if (done === 'nested') continue;
      running.delete(done.call.id);
      const { call, outcome } = done;
      yield emit(
        outcome.ok
          ? {
              type: 'tool.result',
              toolCallId: call.id,
              ok: true,
              output: outcome.output,
              durationMs: outcome.durationMs,
            }
          : {
              type: 'tool.result',
              toolCallId: call.id,
              ok: false,
              error: outcome.error,
              durationMs: outcome.durationMs,
            },
      );
      while (pendingEvents.length) yield emit(pendingEvents.shift()!);
      results.set(call.id, {
        role: 'tool',
        toolCallId: call.id,
        name: call.name,
        ...(outcome.ok
          ? { content: JSON.stringify(outcome.output ?? null) }
          : { content: `Error: ${outcome.error}`, isError: true }),
      });
    }
    // Tool messages go back in the order the model made the calls.
    return calls.map((call) => results.get(call.id)!);
  }
}
