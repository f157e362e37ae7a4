import { describe, expect, it } from 'vitest';
import { carriesContent } from './content.ts';

describe('carriesContent', () => {
  it('is a non-empty text or reasoning delta, or any part of a tool call', () => {
    expect(carriesContent({ type: 'text.delta', delta: 'Hi' })).toBe(true);
    expect(carriesContent({ type: 'reasoning.delta', delta: 'hm' })).toBe(true);
    for (const type of [
      'tool_call.start',
      'tool_call.delta',
      'tool_call.complete',
      'tool_call.invalid',
    ])
      expect(carriesContent({ type })).toBe(true);
  });

  it('is not an opened block, an empty delta, or the step around it', () => {
    expect(carriesContent({ type: 'text.delta', delta: '' })).toBe(false);
    expect(carriesContent({ type: 'reasoning.delta', delta: '' })).toBe(false);
    for (const type of ['text.start', 'reasoning.start', 'step.start', 'usage', 'step.finish'])
      expect(carriesContent({ type })).toBe(false);
  });
});
