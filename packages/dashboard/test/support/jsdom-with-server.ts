import type { Environment } from 'vitest/runtime';
import { builtinEnvironments } from 'vitest/runtime';

/*
 * jsdom for the component, with the test file's modules transformed as for Node (Vite's "ssr"
 * environment) rather than for a browser: so that a test may start a real Parley server in its
 * own process (the store finds its migrations by `new URL(…, import.meta.url)`, which a
 * browser transform turns into a page URL), while its components render in jsdom.
 */
const jsdomWithServer: Environment = {
  ...builtinEnvironments.jsdom,
  name: 'jsdom-with-server',
  viteEnvironment: 'ssr',
};
export default jsdomWithServer;
