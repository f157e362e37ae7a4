// @parley/server: the HTTP API. `startServer` is what `npm start` and `parley start` run.
export { type AppOptions, buildApp, type ParleyApp } from './app.ts';
export {
  bootstrapSingleUser,
  type Credentials,
  CredentialsSchema,
  credentialsPath,
} from './bootstrap.ts';
export {
  CONFIG_VARIABLES,
  ConfigError,
  isLoopback,
  loadConfig,
  type ServerConfig,
} from './config.ts';
export {
  type DatabaseDiagnosis,
  diagnoseEmbeddedDatabase,
  type EmbeddedDiagnosis,
  embeddedDatabaseDir,
  type MigrationReport,
  migrateDatabase,
  type ProbeResult,
  probePostgres,
  redactUrl,
  storeOptionsFor,
} from './database.ts';
export type { Access, RouteSpec } from './http/route.ts';
export { ROUTES } from './routes/index.ts';
export { checkModelKey, type KeyCheck } from './runs/key-check.ts';
export { keySecretOf, modelSecrets } from './runs/models.ts';
export { type SandboxReport, sandboxReport } from './runs/sandbox-report.ts';
export { serve } from './serve.ts';
export { type RunningServer, startServer } from './start.ts';
export {
  childContext,
  formatTraceparent,
  parseTraceparent,
  type TraceContext,
} from './telemetry/trace-context.ts';
