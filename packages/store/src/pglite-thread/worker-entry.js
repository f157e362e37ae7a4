// The PGlite worker's entry, in plain JavaScript so that it needs no type stripping: with the
// compile cache on before worker.ts loads, a start whose files are unchanged reuses their
// stripped code and never instantiates Node's TypeScript stripper (a WebAssembly module of its
// own, ~10 MB per thread). Same reason as packages/server/src/main.js.
import { enableCompileCache } from 'node:module';

enableCompileCache();
await import('./worker.ts');
