// Preloaded with --import: writes every module URL the process loads to the file named by
// PARLEY_RECORD_IMPORTS, one per line (startup.test.ts reads it).
import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const file = process.env.PARLEY_RECORD_IMPORTS;
registerHooks({
  load(url, context, nextLoad) {
    if (file) appendFileSync(file, `${url}\n`);
    return nextLoad(url, context);
  },
});
