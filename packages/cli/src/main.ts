#!/usr/bin/env node
import { main } from './cli.ts';
import { processIo } from './io.ts';

const code = await main(process.argv.slice(2), processIo());
// `parley start` keeps running (the server exits the process itself).
process.exitCode = code;
