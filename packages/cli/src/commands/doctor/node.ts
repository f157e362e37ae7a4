import { type Check, MIN_NODE } from './shared.ts';

/*
 * `parley doctor`, one area: node itself.
 */

export function checkNode(): Check {
  const version = process.versions.node;
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const ok = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
  const detail = `Node ${version} (${process.execPath})`;
  return ok
    ? { name: 'node', status: 'ok', detail }
    : {
        name: 'node',
        status: 'fail',
        detail: `${detail}: Parley needs Node ${MIN_NODE.join('.')} or newer`,
        fix: 'Run npm install in the project (it brings Node 24 into node_modules) and use npx parley, or install Node 24.11+ (https://nodejs.org, or nvm install 24).',
      };
}
