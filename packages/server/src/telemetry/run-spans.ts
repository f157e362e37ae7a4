import {
  type Context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { ParleyEvent } from '@parley/protocol';
import type { ContentPart } from '@parley/providers';
import { childContext, contextOf, otelParent, type TraceContext } from './trace-context.ts';

/** What a run's spans say about it besides its events. */
export interface RunSpanInfo {
  agentName: string;
  agentId: string;
  workspaceId: string;
  runId: string;
}

/**
 * Starts a run's span, `invoke_agent <agent>`, as the run starts (before its model and
 * plugins are set up, so that their outgoing requests name it as their parent): a child of
 * the request that started the run, or of the caller's `traceparent`.
 */
export function startRunSpan(tracer: Tracer, info: RunSpanInfo, parent: Context): Span {
  return tracer.startSpan(
    `invoke_agent ${info.agentName}`,
    {
      kind: SpanKind.INTERNAL,
      attributes: {
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.agent.name': info.agentName,
        'gen_ai.agent.id': info.agentId,
        'parley.run.id': info.runId,
        'parley.workspace.id': info.workspaceId,
      },
    },
    parent,
  );
}

/**
 * A run's trace, made from its events as they are produced: the run's span (started by
 * `startRunSpan`), `chat <model>` for each model call and `execute_tool <tool>` for each tool
 * call, named and attributed per the OpenTelemetry GenAI semantic conventions, timed by the
 * events' own clock. No prompt, answer, tool argument or result is recorded: only names, ids,
 * models, token counts, finish reasons and timings.
 */
export function createRunSpans(tracer: Tracer, runSpan: Span, content?: ContentCapture) {
  let run: Span | undefined = runSpan;
  // Content, only when asked (PARLEY_OTEL_CAPTURE_CONTENT): the step's answer as it streams.
  const capture = content?.captureContent === true;
  let stepOutput: OutputPart[] = [];
  if (capture)
    runSpan.setAttribute(
      'gen_ai.input.messages',
      JSON.stringify([{ role: 'user', parts: inputParts(content!.input) }]),
    );
  let startedAt = 0;
  let step: Span | undefined;
  let stepModel = '';
  const tools = new Map<string, Span>();
  const at = (event: ParleyEvent) => startedAt + event.t;
  /** A span under the run's (a root once the run's has ended), started `startTime` (epoch ms). */
  const child = (name: string, kind: SpanKind, startTime: number, attributes: Attributes) =>
    tracer.startSpan(
      name,
      { kind, startTime, attributes },
      run ? trace.setSpan(ROOT_CONTEXT, run) : ROOT_CONTEXT,
    );

  return {
    /** Follows one event of the run (in order). */
    observe(event: ParleyEvent) {
      switch (event.type) {
        case 'run.start':
          startedAt = Date.parse(event.startedAt);
          if (event.conversationId)
            run?.setAttribute('gen_ai.conversation.id', event.conversationId);
          return;
        case 'step.start':
          endStep(event, 'reset');
          stepModel = event.model;
          step = child(`chat ${event.model}`, SpanKind.CLIENT, at(event), {
            'gen_ai.operation.name': 'chat',
            'gen_ai.provider.name': event.provider,
            'gen_ai.request.model': event.model,
            'parley.step.index': event.stepIndex,
            'parley.step.attempt': event.attempt,
          });
          return;
        case 'text.delta':
          if (!capture) return;
          if (stepOutput.at(-1)?.type === 'text')
            (stepOutput.at(-1) as TextPart).content += event.delta;
          else stepOutput.push({ type: 'text', content: event.delta });
          return;
        case 'step.finish':
          if (capture)
            step?.setAttribute(
              'gen_ai.output.messages',
              JSON.stringify([
                { role: 'assistant', parts: stepOutput, finish_reason: event.finishReason.unified },
              ]),
            );
          stepOutput = [];
          step?.setAttributes({
            'gen_ai.response.model': stepModel,
            'gen_ai.response.finish_reasons': [event.finishReason.unified],
            ...(event.usage
              ? {
                  'gen_ai.usage.input_tokens': event.usage.inputTokens,
                  'gen_ai.usage.output_tokens': event.usage.outputTokens,
                }
              : {}),
            ...(event.timing.ttftMs !== undefined
              ? { 'parley.time_to_first_token_ms': event.timing.ttftMs }
              : {}),
            ...(event.providerRequestId ? { 'gen_ai.response.id': event.providerRequestId } : {}),
          });
          endStep(event, event.error?.code);
          return;
        case 'step.reset':
          if (step) step.setAttribute('parley.step.reset', event.reason);
          endStep(event, event.error?.code ?? event.reason);
          return;
        case 'tool_call.complete':
          if (capture)
            stepOutput.push({
              type: 'tool_call',
              id: event.toolCallId,
              name: event.name,
              arguments: event.args,
            });
          tools.set(
            event.toolCallId,
            child(`execute_tool ${event.name}`, SpanKind.INTERNAL, at(event), {
              'gen_ai.operation.name': 'execute_tool',
              'gen_ai.tool.name': event.name,
              'gen_ai.tool.call.id': event.toolCallId,
              'gen_ai.tool.type': 'function',
              ...(capture ? { 'gen_ai.tool.call.arguments': event.argsText } : {}),
            }),
          );
          return;
        case 'tool.result': {
          const span = tools.get(event.toolCallId);
          if (!span) return;
          tools.delete(event.toolCallId);
          if (capture)
            span.setAttribute(
              'gen_ai.tool.call.result',
              event.ok ? JSON.stringify(event.output ?? null) : (event.error ?? ''),
            );
          if (!event.ok) fail(span, 'tool_error');
          span.end(at(event));
          return;
        }
        // A recall or retrieval is reported once done, with its duration: its span is placed
        // where it ran, ending at the event.
        case 'memory.recall':
          child('search_memory memories', SpanKind.INTERNAL, at(event) - event.latencyMs, {
            'gen_ai.operation.name': 'search_memory',
            'parley.recall.method': event.method ?? 'fulltext',
            'parley.recall.hits': event.hits.length,
          }).end(at(event));
          return;
        case 'knowledge.retrieve':
          child('retrieval knowledge', SpanKind.INTERNAL, at(event) - event.latencyMs, {
            'gen_ai.operation.name': 'retrieval',
            'parley.retrieval.method': event.method,
            'parley.retrieval.chunks': event.chunks.length,
            ...(capture ? { 'gen_ai.retrieval.query': event.query } : {}),
          }).end(at(event));
          return;
        case 'run.finish':
        case 'run.error':
        case 'run.abort':
          end(event);
          return;
      }
    },
  };

  function endStep(event: ParleyEvent, errorType?: string) {
    if (!step) return;
    if (errorType) fail(step, errorType);
    step.end(at(event));
    step = undefined;
  }

  function end(event: ParleyEvent & { type: 'run.finish' | 'run.error' | 'run.abort' }) {
    endStep(event, 'interrupted');
    for (const span of tools.values()) {
      fail(span, 'interrupted');
      span.end(at(event));
    }
    tools.clear();
    if (!run) return;
    if (event.type === 'run.finish') {
      run.setAttributes({
        'gen_ai.usage.input_tokens': event.usage.inputTokens,
        'gen_ai.usage.output_tokens': event.usage.outputTokens,
        'gen_ai.response.finish_reasons': [event.finishReason.unified],
        ...(event.timing.ttftMs !== undefined
          ? { 'parley.time_to_first_token_ms': event.timing.ttftMs }
          : {}),
      });
    } else if (event.type === 'run.error') fail(run, event.error.code);
    else run.setAttribute('parley.run.aborted', event.reason);
    run.end(at(event));
    run = undefined;
  }
}

type Attributes = Record<string, string | number | boolean | string[]>;

/** What a run's spans may record of its content (tracing.ts: PARLEY_OTEL_CAPTURE_CONTENT). */
export interface ContentCapture {
  captureContent: boolean;
  input: string | ContentPart[];
}

type TextPart = { type: 'text'; content: string };
type OutputPart = TextPart | { type: 'tool_call'; id: string; name: string; arguments: unknown };

/** The user's input as the conventions' message parts (images by kind, not by bytes). */
function inputParts(input: string | ContentPart[]) {
  if (typeof input === 'string') return [{ type: 'text', content: input }];
  return input.map((part) =>
    part.type === 'text' ? { type: 'text', content: part.text } : { type: part.type },
  );
}

function fail(span: Span, errorType: string) {
  span.setAttribute('error.type', errorType);
  span.setStatus({ code: SpanStatusCode.ERROR });
}

/** A run's place in a trace: its own span context, and its span when tracing is on. */
export interface RunTrace {
  /** The run's trace id (stored with the run) and the span its calls hang from. */
  context: TraceContext;
  span?: Span;
}

/**
 * Where a run sits in a trace: under `parent` (the request that started it, or the trace of a
 * run it continues), else in a new trace. With tracing off it still has ids, so that its
 * record, its `run.start` event, its log lines and the requests it makes agree on one trace.
 */
export function beginRunTrace(
  tracer: Tracer | undefined,
  info: RunSpanInfo,
  parent: TraceContext | undefined,
): RunTrace {
  if (!tracer) return { context: childContext(parent) };
  const span = startRunSpan(tracer, info, otelParent(parent));
  return { context: contextOf(span), span };
}

/** Ends the span of a run that never started (refused before its first event). */
export function refuseRunTrace(runTrace: RunTrace, error: unknown) {
  if (!runTrace.span) return;
  fail(runTrace.span, (error as { code?: string }).code ?? 'refused');
  runTrace.span.end();
}
