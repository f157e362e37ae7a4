import { realpathSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '@parley/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parley, testIo } from './support/io.ts';

/*
 * Issue #24, the CLI side: `parley import eliza` puts a character's knowledge into knowledge/
 * (its texts as Markdown; the files it names only with --with-knowledge-files, never from
 * outside its directory), and `parley knowledge add … --agent` uploads them to the agent's
 * own knowledge base, where a search finds them.
 */

let server: TestServer;
let dir: string;

beforeAll(async () => {
  server = await startTestServer();
  dir = realpathSync(await mkdtemp(join(tmpdir(), 'parley-knowledge-')));
  await mkdir(join(dir, 'docs', 'guides'), { recursive: true });
  await writeFile(join(dir, 'docs', 'notes.md'), '# Notes\n\nThe lighthouse opens at dawn.\n');
  await writeFile(
    join(dir, 'docs', 'guides', 'keeper.html'),
    '<h1>Keeper</h1><p>Oil the lamp weekly.</p>',
  );
  await writeFile(join(dir, 'docs', 'guides', 'logo.png'), 'not a document');
  await writeFile(
    join(dir, 'ada.character.json'),
    JSON.stringify({
      name: 'Ada',
      modelProvider: 'openai',
      system: 'You keep the lighthouse.',
      knowledge: [
        'The lighthouse was built in 1871.',
        { path: 'docs/notes.md' },
        { directory: 'docs/guides' },
        { path: '../outside.md' },
      ],
    }),
  );
}, 120_000);

afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('parley import eliza: knowledge', () => {
  it('keeps knowledge out of the instructions and reads the named files only when asked', async () => {
    const io = await testIo({ cwd: dir });
    const without = await parley(['import', 'eliza', 'ada.character.json', '--json'], io);
    expect(without.code).toBe(0);
    const first = JSON.parse(without.stdout) as { knowledge: string[]; warnings: string[] };
    expect(first.knowledge).toEqual(['knowledge/character-knowledge.md']);
    expect(first.warnings).toContain(
      'knowledge[1] (file "docs/notes.md") was not read: pass --with-knowledge-files to copy it into knowledge/ for the agent\'s knowledge base',
    );
    expect(await readFile(join(dir, 'agent.yaml'), 'utf8')).not.toContain('1871');
    expect(await readFile(join(dir, 'knowledge', 'character-knowledge.md'), 'utf8')).toBe(
      '# What Ada knows\n\nThe lighthouse was built in 1871.\n',
    );

    const withFiles = await parley(
      ['import', 'eliza', 'ada.character.json', '--force', '--with-knowledge-files', '--json'],
      io,
    );
    const second = JSON.parse(withFiles.stdout) as { knowledge: string[]; warnings: string[] };
    expect(second.knowledge).toEqual([
      'knowledge/character-knowledge.md',
      'knowledge/docs/notes.md',
      'knowledge/docs/guides/keeper.html',
    ]);
    expect(second.warnings).toEqual(
      expect.arrayContaining([
        'docs/guides/logo.png is not text, Markdown, HTML or PDF: skipped',
        'knowledge[3] (file "../outside.md") is outside the character\'s directory and was not read',
      ]),
    );
  });

  it("uploads a directory to the agent's own knowledge base, where a search finds it", async () => {
    const io = await testIo({
      cwd: dir,
      env: { PARLEY_SERVER: server.url, PARLEY_TOKEN: server.token },
    });
    const created = await fetch(`${server.url}/v1/workspaces/${server.workspaceId}/agents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        definition: {
          name: 'Ada',
          instructions: 'x',
          model: { provider: 'scripted', model: 'demo' },
        },
        deploy: true,
      }),
    });
    expect(created.status).toBe(201);
    const added = await parley(['knowledge', 'add', 'knowledge', '--agent', 'Ada', '--json'], io);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    const out = JSON.parse(added.stdout) as {
      base: string;
      embeddingModel: string | null;
      documents: { name: string; version: number; changed: boolean }[];
    };
    expect(out.base).toBe('Ada');
    // The scripted provider's deterministic (not semantic) embeddings, offline.
    expect(out.embeddingModel).toBe('scripted/scripted-embedding');
    expect(out.documents.map((d) => [d.name, d.version, d.changed])).toEqual([
      ['knowledge/character-knowledge.md', 1, true],
      ['knowledge/docs/guides/keeper.html', 1, true],
      ['knowledge/docs/notes.md', 1, true],
    ]);
    const search = await fetch(
      `${server.url}/v1/workspaces/${server.workspaceId}/knowledge-bases/Ada/search`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'when does the lighthouse open', limit: 1 }),
      },
    );
    const found = (await search.json()) as { chunks: { document: string }[] };
    expect(found.chunks[0]?.document).toBe('knowledge/docs/notes.md');
  });
});
