export {
  consentNeeded,
  isEmpty,
  LOCK_FILE_NAME,
  type PluginLock,
  PluginLockSchema,
  readLock,
  widenedPermissions,
  writeLock,
} from './consent.ts';
export {
  applyMatrix,
  type Matrix,
  matrixTargets,
  renderCompatibility,
  runMatrix,
} from './matrix.ts';
export { isBoundedRange, readPluginPackage } from './package-manifest.ts';
export {
  findEntry,
  formatRegistry,
  loadRegistry,
  type Permissions,
  REGISTRY_FILE,
  type Registry,
  type RegistryEntry,
  RegistryError,
  RegistrySchema,
  TIERS,
  type Tier,
} from './registry.ts';
export {
  CHECK_AREAS,
  KIT_RESULT_VERSION,
  type KitCheck,
  KitCheckSchema,
  type KitResult,
  KitResultSchema,
  type KitTarget,
  kitResultJsonSchema,
} from './result.ts';
export { CURRENT_TARGET, type KitOptions, runKit } from './run-kit.ts';
export { sampleFromSchema } from './sample-input.ts';
