import {
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { ParleyEvent } from '@parley/protocol';

/** What a run's spans say about it besides its events. */
export interface RunSpanInfo {
  agentName: string;
  agentId: string;
  workspaceId: string;
}

/**
 * A run's trace, made from its events as they are produced: `invoke_agent <agent>` for the
 * run, `chat <model>` for each model call and `execute_tool <tool>` for each tool call, named
 * and attributed per the OpenTelemetry GenAI semantic conventions, timed by the events' own
 * clock. No prompt, answer, tool argument or result is recorded: only names, ids, models,
 * token counts, finish reasons and timings.
 */
export function createRunSpans(tracer: Tracer, info: RunSpanInfo) {
  let run: Span | undefined;
  let startedAt = 0;
  let step: Span | undefined;
  let stepModel = '';
  const tools = new Map<string, Span>();
  const at = (event: ParleyEvent) => startedAt + event.t;
  const child = (name: string, kind: SpanKind, event: ParleyEvent, attributes: Attributes) =>
    tracer.startSpan(
      name,
      { kind, startTime: at(event), attributes },
      run ? trace.setSpan(ROOT_CONTEXT, run) : ROOT_CONTEXT,
    );

  return {
    /** Follows one event of the run (in order). */
    observe(event: ParleyEvent) {
      switch (event.type) {
        case 'run.start':
          startedAt = Date.parse(event.startedAt);
          run = tracer.startSpan(`invoke_agent ${info.agentName}`, {
            kind: SpanKind.INTERNAL,
            startTime: at(event),
            attributes: {
              'gen_ai.operation.name': 'invoke_agent',
              'gen_ai.agent.name': info.agentName,
              'gen_ai.agent.id': info.agentId,
              ...(event.conversationId ? { 'gen_ai.conversation.id': event.conversationId } : {}),
              'parley.run.id': event.runId,
              'parley.workspace.id': info.workspaceId,
            },
          });
          return;
        case 'step.start':
          endStep(event, 'reset');
          stepModel = event.model;
          step = child(`chat ${event.model}`, SpanKind.CLIENT, event, {
            'gen_ai.operation.name': 'chat',
            'gen_ai.provider.name': event.provider,
            'gen_ai.request.model': event.model,
            'parley.step.index': event.stepIndex,
            'parley.step.attempt': event.attempt,
          });
          return;
        case 'step.finish':
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
          tools.set(
            event.toolCallId,
            child(`execute_tool ${event.name}`, SpanKind.INTERNAL, event, {
              'gen_ai.operation.name': 'execute_tool',
              'gen_ai.tool.name': event.name,
              'gen_ai.tool.call.id': event.toolCallId,
              'gen_ai.tool.type': 'function',
            }),
          );
          return;
        case 'tool.result': {
          const span = tools.get(event.toolCallId);
          if (!span) return;
          tools.delete(event.toolCallId);
          if (!event.ok) fail(span, 'tool_error');
          span.end(at(event));
          return;
        }
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

function fail(span: Span, errorType: string) {
  span.setAttribute('error.type', errorType);
  span.setStatus({ code: SpanStatusCode.ERROR });
}
