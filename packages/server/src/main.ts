#!/usr/bin/env node
// The server process (`npm start`); `parley start` runs the same function.
import { serve } from './serve.ts';

await serve();
