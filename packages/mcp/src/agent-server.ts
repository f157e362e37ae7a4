import type { Readable, Writable } from 'node:stream';
import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';

export interface ExposedAgent {
  /** The agent's name; the tool is called `run_<name>` (characters MCP clients refuse become `_`). */
  name: string;
  description?: string;
  /** Runs the agent on `input` (continuing `conversationId` if given) and returns its final text. */
  run(
    input: string,
    options: { conversationId?: string; signal: AbortSignal },
  ): Promise<{ text: string; conversationId: string; runId: string }>;
}

export function agentToolName(agent: string): string {
  return `run_${agent.replace(/[^a-zA-Z0-9_-]/g, '_')}`.slice(0, 64);
}

/**
 * An MCP server with one tool per agent: it runs the agent and answers with the final text
 * (structured: text, conversationId, runId). Used by the server's Streamable HTTP endpoint
 * and by `parley mcp serve` over stdio (serveOverStdio).
 */
export async function createAgentMcpServer(agents: readonly ExposedAgent[]): Promise<McpServer> {
  // Loaded on first use: most servers never serve MCP, and the SDK is ~1.5 MB of source.
  const { McpServer } = await import('@modelcontextprotocol/server');
  const server = new McpServer({ name: 'parley', version: '0.1.0' });
  for (const agent of agents) {
    server.registerTool(
      agentToolName(agent.name),
      {
        description:
          agent.description ??
          `Ask the Parley agent ${agent.name}. Pass conversationId from an earlier answer to continue that conversation.`,
        inputSchema: z.object({
          input: z.string().min(1).max(100_000).describe('What to ask the agent'),
          conversationId: z.string().uuid().optional().describe('Continue this conversation'),
        }),
        outputSchema: z.object({ text: z.string(), conversationId: z.string(), runId: z.string() }),
      },
      async ({ input, conversationId }, ctx) => {
        const signal = ctx.mcpReq.signal;
        try {
          const answer = await agent.run(input, {
            ...(conversationId ? { conversationId } : {}),
            signal,
          });
          return {
            content: [{ type: 'text', text: answer.text }],
            structuredContent: answer,
          };
        } catch (error) {
          return {
            isError: true,
            content: [
              { type: 'text', text: error instanceof Error ? error.message : String(error) },
            ],
          };
        }
      },
    );
  }
  return server;
}

/**
 * Serves an MCP server over stdio (this process's stdin and stdout unless given) until the
 * client closes the connection (stdin ends): what `parley mcp serve` runs. The protocol
 * version is negotiated by the SDK (the client's, if the SDK supports it, else its newest).
 */
export async function serveOverStdio(
  server: McpServer,
  streams: { stdin?: Readable; stdout?: Writable } = {},
): Promise<void> {
  const { StdioServerTransport } = await import('@modelcontextprotocol/server/stdio');
  const transport = new StdioServerTransport(streams.stdin, streams.stdout);
  await server.connect(transport);
  await new Promise<void>((resolve) => {
    const connected = transport.onclose;
    transport.onclose = () => {
      connected?.();
      resolve();
    };
  });
}
