export {
  agentToolName,
  createAgentMcpServer,
  type ExposedAgent,
  serveOverStdio,
} from './agent-server.ts';
export { BASE_HOST_ENV, type ChildEnvOptions, childEnv } from './child-env.ts';
export { checkMcpServers, commandLine, listedHost, type McpPolicy } from './mcp-policy.ts';
export { createMcpPool, type McpPool } from './mcp-pool.ts';
export {
  type ConnectMcpOptions,
  connectMcpServers,
  type LaunchedProgram,
  type McpConnection,
  type McpConnections,
  parleyToolName,
  type StdioProgram,
} from './mcp-tools.ts';
export { withTools } from './with-tools.ts';
