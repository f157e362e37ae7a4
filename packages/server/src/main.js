#!/usr/bin/env node
// The server process (`npm start`); `parley start` runs the same function.
import { enableCompileCache } from 'node:module';

// V8's compiled code for every module is kept on disk (the OS temp dir, or NODE_COMPILE_CACHE)
// and reused while the files are unchanged: start-up compiles ~1,000 modules otherwise. It must
// be on before they load, hence the dynamic import.
enableCompileCache();
const { serve } = await import('./serve.ts');
await serve();
