import { fileURLToPath } from 'node:url';

/** The repository root (this file is e2e/support/paths.ts). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
/** The Node 24 that `npm install` puts in node_modules (the system node may be older). */
export const NODE = `${REPO_ROOT}/node_modules/.bin/node`;
/** The `parley` command's entry (run on NODE directly: no launcher re-exec in between). */
export const PARLEY_BIN = `${REPO_ROOT}/packages/cli/bin/parley.mjs`;
/** `npm start`'s entry: the server process. */
export const SERVER_MAIN = `${REPO_ROOT}/packages/server/src/main.js`;
