import type { MemoryHit, MemoryRecord, MemoryScopeKind } from '../memory/memory-store.ts';

/** A logger that never prints a secret: values the plugin read are replaced by [REDACTED]. */
export interface ToolLogger {
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}

/** What a tool can do with memory; every write shows up in the run as `memory.write`. */
export interface ToolMemory {
  remember(
    text: string,
    options?: { kind?: string; scope?: MemoryScopeKind },
  ): Promise<MemoryRecord>;
  recall(query: string, options?: { limit?: number }): Promise<MemoryHit[]>;
}

/**
 * Everything a tool may touch. It exposes only the secrets and network hosts its plugin
 * declared: anything else throws `PermissionDeniedError` and is audited.
 */
export interface ToolContext {
  toolCallId: string;
  agentId: string;
  conversationId: string;
  userId?: string;
  /** Aborted when the run is cancelled or the tool's timeout passes. */
  signal: AbortSignal;
  secrets: { get(name: string): Promise<string> };
  fetch(url: string | URL, init?: RequestInit): Promise<Response>;
  log: ToolLogger;
  memory: ToolMemory;
}
