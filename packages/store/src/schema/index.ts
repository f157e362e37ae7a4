export * from './agents.ts';
export * from './audit.ts';
export * from './cluster.ts';
export { appRole, ownerRole } from './columns.ts';
export * from './identity.ts';
export * from './memories.ts';
export * from './runs.ts';
export * from './trust.ts';
export * from './vault.ts';
