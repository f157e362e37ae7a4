import { PassThrough } from 'node:stream';
import { EXAMPLE_STREAM, type ParleyEvent } from '@parley/protocol';
import { expect, it } from 'vitest';
import { createRenderer } from '../src/render.ts';

/*
 * `parley run` and `parley chat` fold a child run (an agent the agent called,
 * docs/multi-agent.md) under its parent: one indented line with what that agent said, printed
 * once the child ended.
 */

it('prints a child run folded under its parent, once it ended', () => {
  const stdout = new PassThrough();
  let printed = '';
  stdout.on('data', (chunk: Buffer) => {
    printed += chunk.toString();
  });
  const io = { stdout, stderr: new PassThrough(), stdin: new PassThrough(), env: {}, cwd: '.' };
  const renderer = createRenderer(io);
  const child = (EXAMPLE_STREAM as ParleyEvent[]).map((e) => ({ ...e, runId: 'child_1' }));
  child.forEach((event, i) => {
    renderer.event({
      v: 1,
      seq: i + 1,
      runId: 'parent_1',
      t: 0,
      type: 'run.child',
      childRunId: 'child_1',
      agent: 'researcher',
      event,
    });
    // Nothing of the child shows until it ended.
    if (i < child.length - 1) expect(printed).toBe('');
  });
  const state = renderer.children().get('child_1')!;
  expect(state.status).toBe('finished');
  expect(printed).toMatch(/^ {2}↳ researcher: \S/);
  expect(printed.trim().split('\n')).toHaveLength(1);
});
