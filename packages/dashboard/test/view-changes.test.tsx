// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, expect, it } from 'vitest';
import { useAttempt } from '../src/api/use-attempt.ts';
import { useResource } from '../src/api/use-resource.ts';
import { ErrorBanner } from '../src/components/error-banner.tsx';
import { WriteOnlyInput } from '../src/components/field.tsx';
import { ResourceState } from '../src/components/resource-state.tsx';

/*
 * What the views that change things share (Secrets, Members, Channels): a change's failure in
 * the view's banner until the next try, busy meanwhile; the resources' failures with a retry
 * and one spinner; a write-only input.
 */

afterEach(cleanup);

function Changes({ steps }: { steps: (() => Promise<void>)[] }) {
  const { error, busy, attempt } = useAttempt();
  return (
    <>
      {error ? <ErrorBanner error={error} /> : null}
      <button type="button" disabled={busy} onClick={() => void attempt(steps.shift()!)}>
        Save
      </button>
    </>
  );
}

it('shows a change’s failure until the next try, and is busy while one runs', async () => {
  let finish = () => {};
  const steps = [
    async () => {
      throw new Error('the disk is full');
    },
    () => new Promise<void>((resolve) => (finish = resolve)),
  ];
  render(<Changes steps={steps} />);
  fireEvent.click(screen.getByRole('button', { name: 'Save' }));
  expect((await screen.findByRole('alert')).textContent).toContain('the disk is full');
  fireEvent.click(screen.getByRole('button', { name: 'Save' }));
  expect(screen.queryByRole('alert')).toBeNull();
  expect(screen.getByRole('button', { name: 'Save' }).hasAttribute('disabled')).toBe(true);
  await act(async () => finish());
  expect(screen.getByRole('button', { name: 'Save' }).hasAttribute('disabled')).toBe(false);
  expect(screen.queryByRole('alert')).toBeNull();
});

function Resources({ loads }: { loads: (() => Promise<string>)[] }) {
  const first = useResource(loads[0]!, []);
  const second = useResource(loads[1]!, []);
  return (
    <>
      <ResourceState of={[first, second]} />
      <p>{[first.data, second.data].join(' ')}</p>
    </>
  );
}

it('says each resource’s failure with a retry, and shows one spinner while any loads', async () => {
  let fail = true;
  let release = () => {};
  const waiting = new Promise<void>((resolve) => (release = resolve));
  const loads = [
    async () => {
      if (fail) throw new Error('the server went away');
      return 'members';
    },
    async () => {
      await waiting;
      return 'invitations';
    },
  ];
  render(<Resources loads={loads} />);
  expect(screen.getAllByRole('status')).toHaveLength(1);
  expect((await screen.findByRole('alert')).textContent).toContain('the server went away');
  fail = false;
  fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
  expect(await screen.findByText('members')).toBeTruthy();
  expect(screen.queryByRole('alert')).toBeNull();
  await act(async () => release());
  expect(await screen.findByText('members invitations')).toBeTruthy();
  expect(screen.queryByRole('status')).toBeNull();
});

it('keeps a write-only value masked and out of autofill', () => {
  render(<WriteOnlyInput aria-label="Value" />);
  const input = screen.getByLabelText('Value');
  expect([input.getAttribute('type'), input.getAttribute('autocomplete')]).toEqual([
    'password',
    'off',
  ]);
});
