/*
 * What `@parley/core` resolves to inside a sandboxed plugin's process (packages/sandbox): the
 * two functions a plugin module calls, without the rest of core (providers, the run loop), which
 * the child is not allowed to read.
 */

export { defineTool } from '../tools/define-tool.ts';
export { definePlugin } from './define-plugin.ts';
