/*
 * What a sandbox (packages/sandbox) needs to give a plugin's process `@parley/core`: the
 * module it resolves to there (plugin-sdk.ts: definePlugin and defineTool, nothing else) and
 * every file that module loads, which the child must be allowed to read. Kept next to the
 * SDK so the sandbox never names core's private paths; exported as
 * `@parley/core/plugin-sdk-files`. Runtime imports of the listed files must stay inside it
 * (type-only imports are erased); zod, which define-tool.ts loads, the sandbox grants itself.
 */

const here = (path: string) => new URL(path, import.meta.url);

/** The module `@parley/core` resolves to inside a sandboxed plugin's process. */
export const PLUGIN_SDK_ENTRY: URL = here('./plugin-sdk.ts');

/** Every file the SDK module loads, itself included. */
export const PLUGIN_SDK_FILES: readonly URL[] = [
  PLUGIN_SDK_ENTRY,
  here('./define-plugin.ts'),
  here('../tools/define-tool.ts'),
];
