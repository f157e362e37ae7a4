// The HTTP API's request and response shapes, shared by the server (validation, OpenAPI),
// the client, the CLI and the dashboard.
export * from './channels.ts';
export * from './evals.ts';
export * from './identity.ts';
export * from './knowledge.ts';
export * from './plugins.ts';
export * from './problem.ts';
export * from './resources.ts';
export * from './security.ts';
export * from './support.ts';
export * from './system.ts';
export * from './trust.ts';
