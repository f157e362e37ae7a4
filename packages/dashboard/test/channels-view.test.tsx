// @vitest-environment jsdom
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createParleyClient, type Me } from '@parley/client';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { ApiProvider } from '../src/api/client.tsx';
import { WorkspaceProvider } from '../src/api/workspace.tsx';
import { ChannelsView } from '../src/channels/channels-view.tsx';

/*
 * The Channels view (docs/channels.md) with the real @parley/client. A real Parley server does
 * not start under jsdom (its migrations resolve file URLs), so a local HTTP server answers the
 * six routes the view uses, with bodies as the API documents them, and records what it was sent.
 */

const WS = '00000000-0000-4000-8000-000000000001';
const AGENT = '00000000-0000-4000-8000-000000000002';
const definition = {
  name: 'support-bot',
  instructions: 'Help.',
  model: { provider: 'scripted', model: 'demo' },
  channels: [{ platform: 'telegram', tokenSecret: 'TELEGRAM_BOT_TOKEN', mode: 'polling' }],
};
const agent = { id: AGENT, name: 'support-bot', workspaceId: WS };
const status = {
  agentId: AGENT,
  platform: 'telegram',
  mode: 'polling',
  state: 'error',
  listening: true,
  lastEventAt: '2026-12-07T03:00:00.000Z',
  lastError: 'Conflict: terminated by other getUpdates request',
};

let server: Server;
let baseUrl: string;
const seen: { method: string; url: string; body: unknown }[] = [];

async function bodyOf(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? JSON.parse(text) : undefined;
}

function answer(method: string, url: string): [number, unknown] {
  const ws = `/v1/workspaces/${WS}`;
  if (method === 'GET' && url === `${ws}/channels`) return [200, [status]];
  if (method === 'GET' && url.startsWith(`${ws}/agents?`)) return [200, [agent]];
  if (method === 'GET' && url === `${ws}/agents`) return [200, [agent]];
  if (method === 'GET' && url === `${ws}/agents/${AGENT}`)
    return [200, { agent, version: { version: 3, definition } }];
  if (method === 'POST' && url === `${ws}/agents/${AGENT}/versions`)
    return [201, { created: true, version: { version: 4 } }];
  if (method === 'PUT' && url.startsWith(`${ws}/secrets/`)) return [200, { name: 'x' }];
  if (method === 'POST' && url === `${ws}/channels/check`)
    return [
      422,
      {
        type: 'about:blank',
        title: 'Token refused',
        status: 422,
        code: 'channel.token_refused',
        detail: 'telegram getMe: Unauthorized',
      },
    ];
  return [404, { title: 'Not found', status: 404, code: 'request.not_found' }];
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const body = await bodyOf(req);
    const [code, json] = answer(req.method ?? 'GET', req.url ?? '/');
    seen.push({ method: req.method ?? 'GET', url: req.url ?? '/', body });
    res.writeHead(code, {
      'content-type': code >= 400 ? 'application/problem+json' : 'application/json',
    });
    res.end(JSON.stringify(json));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
afterEach(() => {
  cleanup();
  seen.length = 0;
});

const me: Me = {
  mode: 'single-user',
  auth: 'session',
  user: null,
  workspaces: [{ id: WS, name: 'Home', createdAt: '2026-12-01T00:00:00.000Z', role: 'owner' }],
  operator: false,
};

function show() {
  const client = createParleyClient({ baseUrl, token: 'prl_test' });
  render(
    <ApiProvider client={client}>
      <WorkspaceProvider me={me}>
        <ChannelsView />
      </WorkspaceProvider>
    </ApiProvider>,
  );
}

it("lists each agent's channels with their state and last error", async () => {
  show();
  const row = (await screen.findByRole('cell', { name: 'support-bot' })).closest('tr')!;
  const cells = within(row).getAllByRole('cell');
  expect(cells.slice(1, 3).map((c) => c.textContent)).toEqual(['telegram', 'polling']);
  expect(cells[3]!.textContent).toBe('error (listening here)');
  expect(cells[5]!.textContent).toMatch(/terminated by other getUpdates/);
});

it('says the platform refused the token and deploys nothing', async () => {
  show();
  const form = await screen.findByRole('form', { name: 'Connect a channel' });
  fireEvent.change(within(form).getByLabelText('Bot token'), { target: { value: '1:bad' } });
  fireEvent.submit(form);
  const alert = await within(form).findByRole('alert');
  expect(alert.textContent).toBe('The platform refused this token. telegram getMe: Unauthorized');
  expect(seen.map((r) => `${r.method} ${r.url.replace(`/v1/workspaces/${WS}`, '')}`)).toEqual(
    expect.arrayContaining(['PUT /secrets/TELEGRAM_BOT_TOKEN', 'POST /channels/check']),
  );
  expect(seen.find((r) => r.url.endsWith('/secrets/TELEGRAM_BOT_TOKEN'))!.body).toEqual({
    value: '1:bad',
  });
  expect(seen.some((r) => r.url.endsWith('/versions'))).toBe(false);
});

it('pauses a channel by deploying the agent with `paused: true`', async () => {
  show();
  fireEvent.click(await screen.findByRole('button', { name: 'Pause support-bot on telegram' }));
  const deploy = await waitFor(() => {
    const found = seen.find((r) => r.url.endsWith('/versions'));
    if (!found) throw new Error('no deploy yet');
    return found;
  });
  expect(deploy.body).toEqual({
    definition: { ...definition, channels: [{ ...definition.channels[0], paused: true }] },
    note: 'channels: pause telegram',
  });
});
