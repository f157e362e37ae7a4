export type { Bus, BusKind, BusLog, BusMessage, BusStatus } from './bus.ts';
export { type ClusterBusOptions, createClusterBus } from './cluster-bus.ts';
export { createLocalBus } from './local-bus.ts';
export { createPostgresBus, type PostgresBusOptions } from './postgres-bus.ts';
export { createRedisBus, type RedisBusOptions } from './redis-bus.ts';
