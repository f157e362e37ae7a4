import type { ChildProcess } from 'node:child_process';
import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/client';

/**
 * MCP's stdio framing (one JSON-RPC message per line) over a child process the sandbox spawned
 * itself. The SDK's StdioClientTransport spawns its own process and always adds HOME, PATH,
 * USER and friends to its environment; a sandboxed plugin must get nothing it did not declare.
 */
export class ChildProcessTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  readonly #child: ChildProcess;
  /** The SDK's framing, loaded by start() (which the client always awaits before send). */
  #serialize: ((message: JSONRPCMessage) => string) | undefined;
  #closed = false;

  constructor(child: ChildProcess) {
    this.#child = child;
  }

  async start(): Promise<void> {
    const { ReadBuffer, serializeMessage } = await import('@modelcontextprotocol/client');
    const buffer = new ReadBuffer();
    this.#serialize = serializeMessage;
    this.#child.stdout?.on('data', (chunk: Buffer) => {
      buffer.append(chunk);
      for (;;) {
        let message: JSONRPCMessage | null;
        try {
          message = buffer.readMessage();
        } catch (error) {
          this.onerror?.(error as Error);
          continue;
        }
        if (!message) break;
        this.onmessage?.(message);
      }
    });
    this.#child.once('exit', () => this.#finish());
    this.#child.stdin?.on('error', (error) => this.onerror?.(error));
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) throw new Error('the plugin process has exited');
    const serialize = this.#serialize;
    if (!serialize) throw new Error('the transport was not started');
    await new Promise<void>((resolve, reject) =>
      this.#child.stdin?.write(serialize(message), (error) => (error ? reject(error) : resolve())),
    );
  }

  async close(): Promise<void> {
    this.#child.stdin?.end();
    this.#finish();
  }

  #finish() {
    if (this.#closed) return;
    this.#closed = true;
    this.onclose?.();
  }
}
