/*
 * Starting points for a first agent. Each is a name, a description and instructions; the
 * model is chosen in the next step. The offline demo's script is below: it calls the
 * calculator, so the first chat shows a tool card, then answers in a few streamed pieces.
 */

export interface AgentTemplate {
  id: string;
  label: string;
  name: string;
  description: string;
  instructions: string;
}

export const TEMPLATES: readonly AgentTemplate[] = [
  {
    id: 'assistant',
    label: 'Helpful assistant',
    name: 'assistant',
    description: 'A helpful assistant with a calculator and a clock.',
    instructions:
      'You are a helpful assistant. Answer clearly and briefly. Use the calculator tool for arithmetic and the current_time tool when the date or time matters.',
  },
  {
    id: 'support',
    label: 'Customer support',
    name: 'support-bot',
    description: 'Answers customer questions politely and says when to ask a person.',
    instructions:
      'You answer customer questions about our product politely and precisely. When you do not know, say so and suggest contacting a person. Never invent policies.',
  },
  {
    id: 'analyst',
    label: 'Data helper',
    name: 'data-helper',
    description: 'Works through numbers step by step and shows the arithmetic.',
    instructions:
      'You help with numbers: estimates, conversions, percentages. Work step by step, use the calculator for every computation, and show the result with its units.',
  },
  {
    id: 'blank',
    label: 'Start from scratch',
    name: '',
    description: '',
    instructions: '',
  },
];

/** Turns of the scripted provider (see docs/agents.md): one per model call of a run. */
export const DEMO_SCRIPT = [
  [
    {
      type: 'reasoning',
      text: 'A question for the demo. I will show a tool call: the calculator works out 6 * 7.',
    },
    { type: 'delay', ms: 200 },
    {
      type: 'tool_call',
      name: 'calculator',
      args: { expression: '6 * 7' },
      deltas: ['{"expres', 'sion": "6', ' * 7"}'],
    },
  ],
  [
    { type: 'text', text: 'The calculator says 6 * 7 = 42.' },
    { type: 'delay', ms: 150 },
    { type: 'text', text: ' I am the offline demo: I play a script instead of thinking,' },
    { type: 'delay', ms: 150 },
    { type: 'text', text: ' so every question gets this answer.' },
    { type: 'delay', ms: 150 },
    {
      type: 'text',
      text: ' Pick a real model to have a real conversation, or deploy me as I am.',
    },
  ],
] as const;

export const DEMO_MODEL = { provider: 'scripted', model: 'demo', script: DEMO_SCRIPT } as const;

/** Agent names the server accepts: letters, digits, dashes; what people type, made valid. */
export function slugify(value: string): string {
  return value
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);
}
