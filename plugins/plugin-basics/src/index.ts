import { definePlugin, defineTool } from '@parley/core';
import { z } from 'zod';
import { calculate } from './calculator.ts';

export { CalculatorError, calculate } from './calculator.ts';

const currentTime = defineTool({
  name: 'current_time',
  // Reads only: safe to call again when a run continues after a failover.
  idempotent: true,
  description:
    'The current date and time, in ISO 8601 and in a given IANA time zone (default UTC).',
  input: z.object({
    timeZone: z.string().max(64).optional().describe('IANA zone such as Europe/Paris'),
  }),
  run: ({ timeZone = 'UTC' }) => {
    const now = new Date();
    let local: string;
    try {
      local = now.toLocaleString('en-GB', { timeZone, dateStyle: 'full', timeStyle: 'long' });
    } catch {
      throw new Error(`unknown time zone "${timeZone}": use an IANA name such as Europe/Paris`);
    }
    return { iso: now.toISOString(), timeZone, local };
  },
});

const calculator = defineTool({
  name: 'calculator',
  idempotent: true,
  description:
    'Evaluates an arithmetic expression: + - * / % ^, parentheses, sqrt, abs, round, min, max, log, ln, pi, e.',
  input: z.object({ expression: z.string().min(1).max(500) }),
  run: ({ expression }) => ({ expression, result: calculate(expression) }),
});

const remember = defineTool({
  name: 'remember',
  description:
    'Stores a fact for later conversations. Use it when the user shares something worth keeping.',
  input: z.object({
    fact: z.string().min(1).max(2000),
    scope: z.enum(['user', 'conversation', 'agent']).default('user'),
  }),
  run: async ({ fact, scope }, context) => {
    const record = await context.memory.remember(fact, { kind: 'fact', scope });
    return { remembered: record.text, id: record.id };
  },
});

const recall = defineTool({
  name: 'recall',
  idempotent: true,
  description: 'Searches stored memories for a query.',
  input: z.object({
    query: z.string().min(1).max(500),
    limit: z.number().int().min(1).max(20).default(5),
  }),
  run: async ({ query, limit }, context) => {
    const hits = await context.memory.recall(query, { limit });
    return hits.map((hit) => ({ text: hit.text, score: Math.round(hit.score * 1000) / 1000 }));
  },
});

/** Tier core. Needs no secrets and no network. */
export const basicsPlugin = definePlugin({
  name: '@parley/plugin-basics',
  version: '0.1.0',
  contract: 1,
  core: '^0.1.0',
  description: 'Current time, a calculator, remember and recall.',
  permissions: { network: [], secrets: [] },
  tools: [currentTime, calculator, remember, recall],
});
