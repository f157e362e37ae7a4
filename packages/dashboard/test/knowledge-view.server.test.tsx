import { createParleyClient, type ParleyClient } from '@parley/client';
import { startTestServer, type TestServer } from '@parley/server/testing';
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
 * server answers (in this process, on PostgreSQL: about a second to start, where a child
 * process on PGlite took ten); the view talks to it over HTTP with the real client.
 */

let server: TestServer;
let client: ParleyClient;
let workspaceId: string;

beforeAll(async () => {
  server = await startTestServer({ engine: 'postgres' });
  workspaceId = server.workspaceId;
  client = createParleyClient({ baseUrl: server.url, token: server.token });
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
});

afterAll(async () => {
  await server?.close();
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
