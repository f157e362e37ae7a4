import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChatChunkSchema, plainTextChunk } from '../src/openai-chat/chat-api.ts';

/*
 * The Chat Completions mapper reads the common chunk (one choice with a text delta) without
 * its schema, for CPU. That shortcut must never accept what the schema refuses, nor read a
 * chunk differently: checked here against the schema on arbitrary chunks.
 */

const anyValue = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.string({ maxLength: 5 }),
  fc.integer({ min: -2, max: 3 }),
  fc.double({ noNaN: true, min: -1, max: 1 }),
  fc.boolean(),
  fc.constant([]),
  fc.constant({}),
  fc.constant([{ index: 0, function: { arguments: '{' } }]),
);
const maybe = <T>(value: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: value, weight: 4 }, { arbitrary: anyValue, weight: 1 });
/** Mostly left out or null, as in real chunks, sometimes anything. */
const rare = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 8 },
  { arbitrary: fc.constant(null), weight: 3 },
  { arbitrary: anyValue, weight: 1 },
);
const delta = fc.record(
  {
    content: maybe(fc.string({ maxLength: 8 })),
    role: maybe(fc.constant('assistant')),
    refusal: rare,
    reasoning: rare,
    reasoning_content: rare,
    reasoning_details: rare,
    tool_calls: rare,
  },
  { requiredKeys: [] },
);
const choice = fc.record(
  {
    index: maybe(fc.constant(0)),
    delta: maybe(delta),
    finish_reason: maybe(fc.constantFrom('stop', 'length')),
    native_finish_reason: rare,
    logprobs: anyValue,
  },
  { requiredKeys: [] },
);
const chunk = fc.record(
  {
    id: maybe(fc.constant('chatcmpl-1')),
    object: maybe(fc.constant('chat.completion.chunk')),
    model: maybe(fc.constant('m')),
    choices: maybe(fc.array(choice, { minLength: 1, maxLength: 2 })),
    usage: rare,
    error: rare,
  },
  { requiredKeys: [] },
);

describe('a plain text chunk read without the schema', () => {
  it('reads exactly what the schema reads, and only chunks the schema accepts', () => {
    let taken = 0;
    fc.assert(
      fc.property(chunk, (data) => {
        const plain = plainTextChunk(data);
        if (!plain) return;
        taken++;
        const parsed = ChatChunkSchema.safeParse(data);
        expect(parsed.success).toBe(true);
        expect(plain).toEqual(parsed.data);
      }),
      { numRuns: 3_000 },
    );
    // The shortcut is taken for a good share of these chunks (else this test checks nothing).
    expect(taken).toBeGreaterThan(50);
  });

  it('is taken for the chunk every OpenAI-compatible server sends most', () => {
    const data = {
      id: 'chatcmpl-9',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'gpt-4o-mini',
      system_fingerprint: 'fp',
      choices: [{ index: 0, delta: { content: 'Hel' }, logprobs: null, finish_reason: null }],
    };
    expect(plainTextChunk(data)).toEqual(ChatChunkSchema.parse(data));
    expect(plainTextChunk({ ...data, usage: { prompt_tokens: 1 } })).toBeUndefined();
  });
});
