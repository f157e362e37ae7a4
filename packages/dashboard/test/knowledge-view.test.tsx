// @vitest-environment jsdom

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createParleyClient, type ParleyClient } from '@parley/client';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiProvider } from '../src/api/client.tsx';
import { WorkspaceProvider } from '../src/api/workspace.tsx';
import { KnowledgeView } from '../src/knowledge/knowledge-view.tsx';
import { recallsByWordsOnly } from '../src/knowledge/recall-note.tsx';

/*
 * Issue #24, the dashboard side: the Knowledge view lists the workspace's bases (an agent's
 * own named after its agent) with their documents, adds files picked in the browser through
 * the same API the CLI uses, one by one with a state each, and deletes a document. A real
 * server (PGlite) answers; the view talks to it with the real client.
 *
 * The server is a child process: under jsdom, Vite transforms modules as browser code, which
 * turns the store's `new URL('../drizzle/', import.meta.url)` into a page URL.
 */

const HERE = dirname(fileURLToPath(import.meta.url));
const MAIN = join(HERE, '../../server/src/main.js');
// The migrated PGlite template the test run's global setup built: a copy starts in a second.
const TEMPLATES = join(HERE, '../../store/test/support/templates.ts');

/** Runs a Node script to its end (plain Node reads the store's TypeScript itself). */
function node(script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));
  });
}

let server: ChildProcess;
let dataDir: string;
let client: ParleyClient;
let workspaceId: string;

/** main.js, single-user, on a free port; resolves once it prints its address and workspace. */
async function startServer(): Promise<{ url: string; workspaceId: string; token: string }> {
  dataDir = await mkdtemp(join(tmpdir(), 'parley-dashboard-knowledge-'));
  await node(
    `const { copyPgliteTemplate } = await import(${JSON.stringify(TEMPLATES)});
     await copyPgliteTemplate(${JSON.stringify(dataDir)});`,
  );
  server = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      PARLEY_PORT: '0',
      PARLEY_DATA_DIR: dataDir,
      PARLEY_MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const [url, id] = await new Promise<[string, string]>((resolve, reject) => {
    const take = (chunk: Buffer) => {
      output += chunk.toString();
      const url = /Parley listening on (\S+)/.exec(output)?.[1];
      const id = /Workspace ([0-9a-f-]{36})/.exec(output)?.[1];
      if (url && id) resolve([url, id]);
    };
    server.stdout!.on('data', take);
    server.stderr!.on('data', take);
    server.once('exit', () => reject(new Error(`the server exited:\n${output}`)));
  });
  const { token } = JSON.parse(await readFile(join(dataDir, 'credentials'), 'utf8')) as {
    token: string;
  };
  return { url, workspaceId: id, token };
}

beforeAll(async () => {
  const started = await startServer();
  workspaceId = started.workspaceId;
  client = createParleyClient({ baseUrl: started.url, token: started.token });
  await client.agents.create(workspaceId, {
    definition: {
      name: 'lamp-bot',
      instructions: 'Answer from the manual.',
      model: { provider: 'scripted', model: 'demo' },
    },
  });
  await client.knowledge.put(workspaceId, 'lamp-bot', { agent: 'lamp-bot' });
  await client.knowledge.putDocument(workspaceId, 'lamp-bot', {
    name: 'manual.md',
    text: '# Lamp\n\nOil the lamp weekly.\n',
  });
  await client.knowledge.put(workspaceId, 'handbook');
}, 120_000);

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});
afterEach(cleanup);

async function renderView() {
  const me = await client.me();
  render(
    <ApiProvider client={client}>
      <WorkspaceProvider me={me}>
        <KnowledgeView />
      </WorkspaceProvider>
    </ApiProvider>,
  );
  const own = (await screen.findByText("lamp-bot's own")).closest('li')!;
  const shared = screen.getByText('handbook').closest('li')!;
  return { own, shared };
}

describe('knowledge view', () => {
  it("lists the bases, an agent's own by its agent, with each base's documents", async () => {
    const { own, shared } = await renderView();
    expect(within(shared).getByText('shared')).toBeTruthy();
    expect(await within(shared).findByText('No documents yet.')).toBeTruthy();
    const row = (await within(own).findByRole('rowheader', { name: 'manual.md' })).closest('tr')!;
    const cells = within(row)
      .getAllByRole('cell')
      .map((c) => c.textContent);
    expect(cells.slice(0, 3)).toEqual(['Markdown', '1', '1']);
  });

  it('adds picked files one by one, with a state each, and refuses a file too large', async () => {
    const { shared } = await renderView();
    const input = shared.querySelector<HTMLInputElement>('input[type=file]')!;
    const files = [
      new File(['<h1>Keeper</h1><p>Light the lamp at dusk.</p>'], 'keeper.html', {
        type: 'text/html',
      }),
      new File(['x'.repeat(800 * 1024)], 'huge.txt', { type: 'text/plain' }),
    ];
    fireEvent.change(input, { target: { files } });
    const uploads = await within(shared).findByRole('list', { name: 'Uploads to handbook' });
    await waitFor(() => expect(within(uploads).getByText('added')).toBeTruthy());
    expect(within(uploads).getByText('failed').closest('li')!.textContent).toMatch(
      /huge\.txt.*larger than 700 KiB/,
    );
    expect(await within(shared).findByRole('rowheader', { name: 'keeper.html' })).toBeTruthy();
    const stored = await client.knowledge.documents(workspaceId, 'handbook');
    expect(stored.map((d) => [d.name, d.mediaType])).toEqual([['keeper.html', 'text/html']]);
  });

  it('deletes a document', async () => {
    const { own } = await renderView();
    window.confirm = () => true;
    fireEvent.click(await within(own).findByRole('button', { name: 'Delete manual.md' }));
    expect(await within(own).findByText('No documents yet.')).toBeTruthy();
    expect(await client.knowledge.documents(workspaceId, 'lamp-bot')).toEqual([]);
  });
});

it('notes an agent that recalls by words only: Anthropic without an embedding model', () => {
  const anthropic = { model: { provider: 'anthropic', model: 'claude' } };
  expect(recallsByWordsOnly(anthropic)).toBe(true);
  expect(
    recallsByWordsOnly({
      ...anthropic,
      memory: { embeddingModel: { provider: 'openai', model: 'text-embedding-3-small' } },
    }),
  ).toBe(false);
  expect(recallsByWordsOnly({ ...anthropic, memory: { enabled: false } })).toBe(false);
  expect(recallsByWordsOnly({ model: { provider: 'openai', model: 'gpt' } })).toBe(false);
});
