export { isBoundedRange, readPluginPackage } from './package-manifest.ts';
export {
  CHECK_AREAS,
  KIT_RESULT_VERSION,
  type KitCheck,
  KitCheckSchema,
  type KitResult,
  KitResultSchema,
  type KitTarget,
} from './result.ts';
export { CURRENT_TARGET, type KitOptions, runKit } from './run-kit.ts';
export { sampleFromSchema } from './sample-input.ts';
