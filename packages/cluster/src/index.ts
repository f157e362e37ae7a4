export type { Bus, BusKind, BusLog, BusMessage, BusStatus } from './bus.ts';
export { type ClusterBusOptions, createClusterBus } from './cluster-bus.ts';
export {
  type CounterBackend,
  type CounterHit,
  type CounterKind,
  type CounterStatus,
  type Counters,
  type CountersOptions,
  createCounters,
  createLocalCounters,
} from './counters.ts';
export { createLocalBus } from './local-bus.ts';
export { createPostgresBus, type PostgresBusOptions } from './postgres-bus.ts';
export { createRedisBus, type RedisBusOptions } from './redis-bus.ts';
