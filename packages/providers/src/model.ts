import type { StepEventPayload } from '@parley/protocol';

import type { ProviderName } from './catalogue.ts';

export { PROVIDER_NAMES, type ProviderName } from './catalogue.ts';

/** A piece of message content. Images travel as a URL or as base64 data with a media type. */
export type ContentPart =
  | { type: 'text'; text: string }
  | { type: 'image'; url: string }
  | { type: 'image'; data: string; mediaType: string };

/** A tool call the assistant made, as sent back to the model on the next step. */
export interface AssistantToolCall {
  id: string;
  name: string;
  /** Parsed arguments. */
  args: unknown;
}

/** Reasoning the assistant produced, with the provider data it needs back (signatures). */
export interface AssistantReasoning {
  text: string;
  replay?: { provider: string; signature?: string; data?: unknown };
}

/** One message of a conversation, in the provider-neutral shape every adapter converts. */
export type ModelMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string | ContentPart[] }
  | {
      role: 'assistant';
      content: string | ContentPart[];
      toolCalls?: AssistantToolCall[];
      reasoning?: AssistantReasoning[];
    }
  | {
      role: 'tool';
      toolCallId: string;
      name?: string;
      content: string | ContentPart[];
      isError?: boolean;
    };

/** A tool offered to the model. `parameters` is a JSON Schema object (core converts zod). */
export interface ModelTool {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

/** One model call, provider-neutral. */
export interface ModelRequest {
  messages: ModelMessage[];
  tools?: ModelTool[];
  toolChoice?: ToolChoice;
  temperature?: number;
  maxOutputTokens?: number;
  /** Ask for reasoning: an effort level, or a token budget (Anthropic thinking). */
  reasoning?: { effort?: 'low' | 'medium' | 'high'; budgetTokens?: number };
}

export interface StreamOptions {
  /** Aborting closes the HTTP request at once; the stream then ends with a `cancelled` error. */
  signal?: AbortSignal;
  /** Index of this model call within the run, reported on `step.start` (default 0). */
  stepIndex?: number;
}

export interface EmbedOptions extends StreamOptions {
  /** Ask for vectors of this size (models that can shorten them: OpenAI's text-embedding-3). */
  dimensions?: number;
}

export interface EmbedResult {
  embeddings: number[][];
  model: string;
  dimensions: number;
  usage?: { inputTokens: number };
}

/**
 * A model behind one provider. `stream` yields step-level Parley Stream v1 payloads:
 * `step.start`, the parts, then `step.finish`. It never throws for provider, network or
 * cancellation failures: the final `step.finish` carries `finishReason.unified: 'error'` and a
 * typed `error`. A retry before the first token yields `step.reset` and a new `step.start`
 * with `attempt + 1`, so the last event is always the one `step.finish`.
 */
export interface LanguageModel {
  readonly provider: ProviderName;
  readonly model: string;
  stream(request: ModelRequest, options?: StreamOptions): AsyncIterable<StepEventPayload>;
  /** Present on adapters whose provider has an embeddings endpoint. */
  embed?(texts: string[], options?: EmbedOptions): Promise<EmbedResult>;
}

/** Settings of `createModel`. `baseURL` is the API root including its version segment. */
export interface ModelSettings {
  provider: ProviderName;
  model: string;
  apiKey?: string;
  baseURL?: string;
  headers?: Record<string, string>;
  /**
   * Longest silence once the response has started: no bytes of the stream for this long ends
   * the step with a `timeout` error, the output so far kept (default 120 s). A stream that
   * keeps flowing is never cut.
   */
  timeoutMs?: number;
  /**
   * Longest wait for the provider's first byte (its response headers), retries included: no
   * retry starts that would end past it, and an attempt still waiting then ends the step with
   * a `timeout` error (default 60 s). A fallback model, if any, gets its own.
   */
  firstByteTimeoutMs?: number;
  /** Retries of retryable errors before the first token (default 2). */
  maxRetries?: number;
  /** OpenRouter attribution: your app's URL, sent as `HTTP-Referer`. */
  appUrl?: string;
  /** OpenRouter attribution: your app's name, sent as `X-Title` and `X-OpenRouter-Title` (default "Parley"). */
  appTitle?: string;
}
