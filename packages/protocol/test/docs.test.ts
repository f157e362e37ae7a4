import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  EVENT_TYPES,
  EXAMPLE_STREAM,
  type ParleyEvent,
  readParleyEvents,
  STREAM_ERROR_CODES,
} from '../src/index.ts';

// docs/streaming.md is the spec people write clients from; these tests keep it equal to the code.
const doc = readFileSync(new URL('../../../docs/streaming.md', import.meta.url), 'utf8');

describe('docs/streaming.md matches @parley/protocol', () => {
  it('documents every event type', () => {
    for (const type of EVENT_TYPES) expect(doc, type).toContain(`| \`${type}\` |`);
  });

  it('documents every error code with its retry default', () => {
    for (const [code, { retryable }] of Object.entries(STREAM_ERROR_CODES)) {
      expect(doc, code).toContain(`| \`${code}\` | ${retryable ? 'yes' : 'no'} |`);
    }
  });

  it('shows exactly the example stream, as valid wire text', async () => {
    const section = doc.slice(doc.indexOf('## 6. A complete example'));
    const block = /```text\n([\s\S]*?)```/.exec(section)?.[1];
    expect(block).toBeDefined();
    const events: ParleyEvent[] = [];
    for await (const e of readParleyEvents([`${block}`])) events.push(e);
    expect(events).toEqual(EXAMPLE_STREAM);
  });
});
