// Plain JavaScript: registered before any TypeScript loads (main.js, the parley launcher). The
// hook is the store's (its database library's loading); the server passes it on to the CLI.
export { registerFastResolve } from '@parley/store/fast-resolve';
