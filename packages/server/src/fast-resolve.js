// Plain JavaScript: registered before the store loads (main.js, `parley start`). The hook is
// the store's (its database library's loading); the server passes it on to the CLI.
export { registerFastResolve } from '@parley/store/fast-resolve';
