#!/usr/bin/env node
// The server process (`npm start`); `parley start` runs the same function.
//
// Plain JavaScript on purpose. V8's compiled code for every module is kept on disk (the OS temp
// dir, or NODE_COMPILE_CACHE) and reused while the files are unchanged: start-up compiles
// ~1,000 modules otherwise, and a start that finds every TypeScript file's stripped code there
// never instantiates Node's type stripper (~10 MB of WebAssembly, measured in RSS). The cache
// must be on before any module loads, hence the dynamic import; and this file itself must need
// no stripping.
import { enableCompileCache } from 'node:module';
import { registerFastResolve } from './fast-resolve.js';

enableCompileCache();
registerFastResolve();
const { serve } = await import('./serve.ts');
await serve();
