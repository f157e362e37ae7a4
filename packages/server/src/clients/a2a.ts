import { type ParleyEvent, reduceEvents, textOf } from '@parley/protocol';

/**
 * A2A (Agent2Agent) from Parley runs: a task is a run, its contextId the run's conversation.
 * Two wire versions share this mapping: A2A 1.0 (JSON-RPC methods `SendMessage`,
 * `SendStreamingMessage`, `GetTask`, `CancelTask`, `SubscribeToTask`; ProtoJSON shapes:
 * `TASK_STATE_COMPLETED`, `ROLE_AGENT`, parts `{ text }`), the newest the official
 * `@a2a-js/sdk` speaks, and A2A 0.3 (`message/send`, `message/stream`, `tasks/get`,
 * `tasks/cancel`, `tasks/resubscribe`; `kind`-tagged shapes, `completed`, `agent`). See
 * docs/clients.md#a2a.
 */

export type A2AVersion = '1.0' | '0.3';

/** JSON-RPC error codes (A2A specification §8, JSON-RPC 2.0). */
export const A2A_ERRORS = {
  parseError: { code: -32700, reason: 'PARSE_ERROR', message: 'Invalid JSON payload' },
  invalidRequest: { code: -32600, reason: 'INVALID_REQUEST', message: 'Invalid JSON-RPC request' },
  methodNotFound: { code: -32601, reason: 'METHOD_NOT_FOUND', message: 'Method not found' },
  invalidParams: { code: -32602, reason: 'INVALID_PARAMS', message: 'Invalid parameters' },
  internal: { code: -32603, reason: 'INTERNAL_ERROR', message: 'Internal error' },
  taskNotFound: { code: -32001, reason: 'TASK_NOT_FOUND', message: 'Task not found' },
  taskNotCancelable: {
    code: -32002,
    reason: 'TASK_NOT_CANCELABLE',
    message: 'Task cannot be canceled',
  },
  pushNotSupported: {
    code: -32003,
    reason: 'PUSH_NOTIFICATION_NOT_SUPPORTED',
    message: 'Push Notification is not supported',
  },
  unsupported: {
    code: -32004,
    reason: 'UNSUPPORTED_OPERATION',
    message: 'This operation is not supported',
  },
} as const;
export type A2AErrorKind = keyof typeof A2A_ERRORS;

/** A JSON-RPC error the endpoint answers (HTTP 200, as JSON-RPC over HTTP does). */
export class A2AError extends Error {
  readonly kind: A2AErrorKind;
  constructor(kind: A2AErrorKind, message?: string) {
    super(message ?? A2A_ERRORS[kind].message);
    this.kind = kind;
  }
}

export type JsonRpcId = string | number | null;

/** The JSON-RPC error response (1.0 carries a google.rpc.ErrorInfo in `data`). */
export function errorResponse(id: JsonRpcId, error: A2AError, version: A2AVersion) {
  const spec = A2A_ERRORS[error.kind];
  return {
    jsonrpc: '2.0' as const,
    id,
    error: {
      code: spec.code,
      message: error.message,
      ...(version === '1.0'
        ? {
            data: [
              {
                '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
                reason: spec.reason,
                domain: 'a2a-protocol.org',
              },
            ],
          }
        : {}),
    },
  };
}

/** The task state of a run: one name per wire version. */
type State = 'submitted' | 'working' | 'completed' | 'failed' | 'canceled';
const STATE_1_0: Record<State, string> = {
  submitted: 'TASK_STATE_SUBMITTED',
  working: 'TASK_STATE_WORKING',
  completed: 'TASK_STATE_COMPLETED',
  failed: 'TASK_STATE_FAILED',
  canceled: 'TASK_STATE_CANCELED',
};

/** A run's state from its stored status. */
export function stateOfStatus(status: string): State {
  switch (status) {
    case 'queued':
      return 'submitted';
    case 'succeeded':
      return 'completed';
    case 'failed':
      return 'failed';
    case 'cancelled':
      return 'canceled';
    default:
      return 'working';
  }
}

/** A run's state from its terminal event (working while it has none). */
export function stateOfEvents(events: readonly ParleyEvent[]): State {
  const last = events.at(-1);
  if (last?.type === 'run.finish') return 'completed';
  if (last?.type === 'run.error') return 'failed';
  if (last?.type === 'run.abort') return last.reason === 'cancelled' ? 'canceled' : 'failed';
  return 'working';
}

/** The text of a message's parts a run takes as input (text, and data as JSON). */
export function inputText(message: unknown): string {
  const parts = (message as { parts?: unknown })?.parts;
  if (!Array.isArray(parts)) return '';
  const texts: string[] = [];
  for (const part of parts as Record<string, unknown>[]) {
    if (typeof part?.text === 'string') texts.push(part.text);
    else if (part?.data !== undefined) texts.push(JSON.stringify(part.data));
  }
  return texts.join('\n').trim();
}

export interface TaskFacts {
  runId: string;
  contextId: string;
  state: State;
  /** The answer so far. */
  text: string;
  /** Why the run failed. */
  error?: string;
  timestamp: string;
  /** The message that started it, as the client sent it. */
  userMessage?: Record<string, unknown>;
  historyLength?: number;
}

/** Encodes A2A objects in one wire version. */
export function a2aWire(version: A2AVersion) {
  const v1 = version === '1.0';
  const textPart = (text: string) => (v1 ? { text } : { kind: 'text', text });
  const agentMessage = (facts: { runId: string; contextId: string }, text: string, id: string) => ({
    ...(v1 ? {} : { kind: 'message' }),
    messageId: id,
    contextId: facts.contextId,
    taskId: facts.runId,
    role: v1 ? 'ROLE_AGENT' : 'agent',
    parts: [textPart(text)],
  });
  const status = (facts: TaskFacts) => ({
    state: v1 ? STATE_1_0[facts.state] : facts.state,
    timestamp: facts.timestamp,
    ...(facts.error ? { message: agentMessage(facts, facts.error, `${facts.runId}-status`) } : {}),
  });
  const artifact = (runId: string, text: string) => ({
    artifactId: `${runId}-answer`,
    name: 'answer',
    parts: [textPart(text)],
  });

  /** The task as `GetTask`, `SendMessage` and `CancelTask` answer it. */
  function task(facts: TaskFacts) {
    const history: unknown[] = [];
    if (facts.userMessage)
      history.push({
        ...facts.userMessage,
        contextId: facts.contextId,
        taskId: facts.runId,
      });
    if (facts.text) history.push(agentMessage(facts, facts.text, `${facts.runId}-answer`));
    const limit = facts.historyLength;
    const kept = limit === undefined ? history : limit <= 0 ? [] : history.slice(-limit);
    return {
      ...(v1 ? {} : { kind: 'task' }),
      id: facts.runId,
      contextId: facts.contextId,
      status: status(facts),
      artifacts: facts.text ? [artifact(facts.runId, facts.text)] : [],
      history: kept,
      metadata: { parleyRunId: facts.runId },
    };
  }

  /** `SendMessage`'s result: `{ task }` in 1.0, the task itself in 0.3. */
  function sendResult(facts: TaskFacts) {
    return v1 ? { task: task(facts) } : task(facts);
  }

  /**
   * A stateful encoder of a run's events as A2A stream responses (SSE `data:` frames of
   * JSON-RPC responses): the task first, the answer's text as artifact chunks, the final
   * status last.
   */
  function streamEncoder(
    id: JsonRpcId,
    facts: { runId: string; contextId: string; userMessage?: Record<string, unknown> },
  ) {
    let appended = false;
    const frame = (result: unknown) =>
      `data: ${JSON.stringify({ jsonrpc: '2.0', id, result })}\n\n`;
    const now = () => new Date().toISOString();
    const base = { taskId: facts.runId, contextId: facts.contextId };
    const artifactUpdate = (text: string, lastChunk: boolean) => {
      const update = {
        ...base,
        artifact: artifact(facts.runId, text),
        append: appended,
        lastChunk,
      };
      appended = true;
      return frame(v1 ? { artifactUpdate: update } : { kind: 'artifact-update', ...update });
    };
    const statusUpdate = (state: State, error?: string) => {
      const update = {
        ...base,
        status: status({
          ...facts,
          state,
          text: '',
          timestamp: now(),
          ...(error ? { error } : {}),
        }),
        ...(v1 ? {} : { final: state !== 'working' }),
      };
      return frame(v1 ? { statusUpdate: update } : { kind: 'status-update', ...update });
    };
    return (event: ParleyEvent): string => {
      switch (event.type) {
        case 'run.start': {
          const first = task({
            ...facts,
            state: 'working',
            text: '',
            timestamp: event.startedAt,
          });
          return frame(v1 ? { task: first } : first);
        }
        case 'text.delta':
          return event.delta ? artifactUpdate(event.delta, false) : '';
        case 'step.reset':
          // What the step said is dropped: the answer starts again.
          appended = false;
          return '';
        case 'run.finish':
          return (appended ? artifactUpdate('', true) : '') + statusUpdate('completed');
        case 'run.error':
          return statusUpdate('failed', event.error.message);
        case 'run.abort':
          return statusUpdate(
            event.reason === 'cancelled' ? 'canceled' : 'failed',
            event.reason === 'cancelled' ? undefined : `The run ended: ${event.reason}.`,
          );
        default:
          return '';
      }
    };
  }

  return { task, sendResult, streamEncoder };
}

/** A task's facts from a run's events (live or stored). */
export function factsOfEvents(
  runId: string,
  contextId: string,
  events: readonly ParleyEvent[],
  state: State,
): TaskFacts {
  const last = events.at(-1);
  return {
    runId,
    contextId,
    state,
    text: textOf(reduceEvents([...events])),
    ...(last?.type === 'run.error' ? { error: last.error.message } : {}),
    ...(last?.type === 'run.abort' && last.reason !== 'cancelled'
      ? { error: `The run ended: ${last.reason}.` }
      : {}),
    timestamp: new Date().toISOString(),
  };
}

/**
 * The agent card: A2A 1.0 (`supportedInterfaces`, with a 0.3 interface at the same URL), and
 * the fields a 0.3 reader looks for beside them (`url`, `protocolVersion`,
 * `preferredTransport`, `security`, the scheme's `type`/`scheme`); a 1.0 reader ignores those
 * (a card with `supportedInterfaces` is read as 1.0).
 */
export function agentCard(options: {
  name: string;
  description: string | null;
  url: string;
  version: string;
  documentationUrl: string;
}) {
  return {
    name: options.name,
    description: options.description || `The Parley agent ${options.name}.`,
    supportedInterfaces: [
      { url: options.url, protocolBinding: 'JSONRPC', protocolVersion: '1.0' },
      { url: options.url, protocolBinding: 'JSONRPC', protocolVersion: '0.3' },
    ],
    url: options.url,
    protocolVersion: '0.3.0',
    preferredTransport: 'JSONRPC',
    provider: { organization: 'Parley', url: options.documentationUrl },
    version: options.version,
    documentationUrl: options.documentationUrl,
    capabilities: { streaming: true, pushNotifications: false, extendedAgentCard: false },
    securitySchemes: {
      bearer: {
        type: 'http',
        scheme: 'bearer',
        httpAuthSecurityScheme: {
          scheme: 'Bearer',
          description: 'A Parley API token (prl_…) of the agent’s workspace, with runs:create.',
        },
      },
    },
    securityRequirements: [{ schemes: { bearer: { list: [] } } }],
    security: [{ bearer: [] }],
    defaultInputModes: ['text/plain', 'application/json'],
    defaultOutputModes: ['text/plain'],
    skills: [
      {
        id: options.name,
        name: options.name,
        description: options.description || `Talk with ${options.name}.`,
        tags: ['parley'],
        examples: [],
        inputModes: ['text/plain'],
        outputModes: ['text/plain'],
      },
    ],
  };
}
