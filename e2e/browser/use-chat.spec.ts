import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, rename, rm } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { extname, join } from 'node:path';
import { expect, test } from '@playwright/test';
import { build } from 'vite';
import { REPO_ROOT } from '../support/paths.ts';
import { createScriptedAgent, type Parley, startParley } from './support/parley.ts';

// A real React page on the AI SDK's useChat (@ai-sdk/react, DefaultChatTransport) against a
// Parley agent's chat endpoint (UI message stream v1), in Chromium: a chat with a tool call
// shown, stop, and a reload mid-answer that resumes the running answer. The page is built
// with Vite and served by a small server that forwards /v1 to Parley with the owner's token,
// as an app's own backend would.

const PAGE_DIR = join(import.meta.dirname, 'use-chat');
const WORDS = 40;
const answer = Array.from({ length: WORDS }, (_, i) => `w${i}`).join(' ');

let parley: Parley;
let site: Server;
let siteUrl = '';
let outDir = '';

/**
 * The page, built with Vite once per content: its files and the lockfile (every package it
 * bundles) name the build, kept in node_modules/.cache. The CI's second, CPU-loaded pass and
 * later runs serve the same bytes a build would make again. Built beside its name and renamed
 * into place, so a half-written build is never served.
 */
async function builtPage(): Promise<string> {
  const hash = createHash('sha256');
  const files = (await readdir(PAGE_DIR, { withFileTypes: true })).filter((e) => e.isFile());
  for (const name of files.map((e) => e.name).sort()) {
    hash.update(`${name}\n`).update(await readFile(join(PAGE_DIR, name)));
  }
  hash.update(await readFile(join(REPO_ROOT, 'package-lock.json')));
  const dir = join(
    REPO_ROOT,
    'node_modules/.cache/parley-use-chat',
    hash.digest('hex').slice(0, 16),
  );
  if (existsSync(join(dir, 'index.html'))) return dir;
  const work = `${dir}.${process.pid}.${Date.now()}`;
  await build({
    configFile: false,
    root: PAGE_DIR,
    logLevel: 'silent',
    build: { outDir: work, emptyOutDir: true },
  });
  await rename(work, dir).catch(async (error: NodeJS.ErrnoException) => {
    // Another worker's build of the same content got there first.
    if (!['ENOTEMPTY', 'EEXIST'].includes(error.code ?? '')) throw error;
    await rm(work, { recursive: true, force: true });
  });
  return dir;
}

test.beforeAll(async () => {
  // A server start and (unless cached) a Vite build, side by side: slow on a loaded machine.
  test.setTimeout(180_000);
  const [server, page] = await Promise.allSettled([startParley(), builtPage()]);
  // A started server is kept for afterAll to stop, whatever the build did.
  if (server.status === 'fulfilled') parley = server.value;
  if (server.status === 'rejected') throw server.reason;
  if (page.status === 'rejected') throw page.reason;
  outDir = page.value;
  await createScriptedAgent(parley, 'calc', [
    [
      { type: 'text', text: 'Let me compute that.' },
      {
        type: 'tool_call',
        name: 'calculator',
        args: { expression: '6 * 7' },
        deltas: ['{"expression"', ':"6 * 7"}'],
      },
    ],
    [{ type: 'text', text: 'It is 42.' }],
  ]);
  // About 6 s of words: time to stop or reload in the middle.
  await createScriptedAgent(parley, 'slow', [
    Array.from({ length: WORDS }, (_, i) => [
      { type: 'text', text: `${i === 0 ? '' : ' '}w${i}` },
      { type: 'delay', ms: 150 },
    ]).flat(),
  ]);
  site = createServer((req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith('/v1/')) {
      const target = new URL(url, parley.url);
      const upstream = request(
        target,
        {
          method: req.method,
          headers: {
            ...req.headers,
            host: target.host,
            authorization: `Bearer ${parley.token}`,
          },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      res.on('close', () => upstream.destroy());
      req.pipe(upstream);
      return;
    }
    const path = url.split('?')[0] === '/' ? '/index.html' : url.split('?')[0]!;
    readFile(join(outDir, path)).then(
      (body) => {
        const type = extname(path) === '.js' ? 'text/javascript' : 'text/html';
        res.writeHead(200, { 'content-type': type });
        res.end(body);
      },
      () => {
        res.writeHead(404);
        res.end();
      },
    );
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  const address = site.address();
  siteUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

test.afterAll(async () => {
  await new Promise((resolve) => site?.close(resolve));
  site?.closeAllConnections();
  await parley?.stop();
});

const open = (page: import('@playwright/test').Page, agent: string, chat: string) =>
  page.goto(`${siteUrl}/?workspace=${parley.workspaceId}&agent=${agent}&chat=${chat}`);

async function send(page: import('@playwright/test').Page, text: string) {
  await page.getByLabel('message').fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
}

/** The chat's runs, as Parley lists them. */
async function runsOf(agent: string) {
  const agents = await parley.api.agents.list(parley.workspaceId);
  const agentId = agents.find((a) => a.name === agent)!.id;
  return parley.api.runs.list(parley.workspaceId, { agentId });
}

test('chats, showing the tool call and its result', async ({ page }) => {
  await open(page, 'calc', 'calc-1');
  await expect(page.getByTestId('status')).toHaveText('ready');
  await send(page, 'what is 6 * 7?');
  const assistant = page.locator('section[data-role=assistant]');
  await expect(assistant.locator('[data-part=tool]')).toHaveAttribute(
    'data-state',
    'output-available',
  );
  await expect(assistant.locator('[data-part=tool]')).toContainText('calculator');
  await expect(assistant.locator('[data-part=tool]')).toContainText('"result":42');
  await expect(assistant.locator('[data-part=text]').last()).toHaveText('It is 42.');
  await expect(page.getByTestId('status')).toHaveText('ready');
  const [run] = await runsOf('calc');
  expect(run?.status).toBe('succeeded');
  expect(run?.ttftMs).not.toBeNull();
});

test('stops an answer mid-stream, and the run with it', async ({ page }) => {
  await open(page, 'slow', 'slow-stop');
  await expect(page.getByTestId('status')).toHaveText('ready');
  await send(page, 'talk');
  // Each scripted piece is a text part of its own: the message's text is all of them.
  const text = page.locator('section[data-role=assistant]');
  await expect(text).toContainText('w2');
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('status')).toHaveText('ready');
  await expect.poll(async () => (await runsOf('slow'))[0]?.status).toBe('cancelled');
  const shown = (await text.textContent()) ?? '';
  expect(shown).not.toContain(`w${WORDS - 1}`);
});

test('a reload mid-answer resumes the running answer', async ({ page }) => {
  await open(page, 'slow', 'slow-reload');
  await expect(page.getByTestId('status')).toHaveText('ready');
  await send(page, 'talk');
  // Each scripted piece is a text part of its own: the message's text is all of them.
  const text = page.locator('section[data-role=assistant]');
  await expect(text).toContainText('w3');
  const before = (await runsOf('slow'))[0]!;
  expect(before.status).toBe('running');
  await page.reload();
  // useChat({ resume: true }) asks GET …/chat/:chatId/stream: the whole answer, replayed and
  // followed to its end.
  await expect(text).toHaveText(answer, { timeout: 30_000 });
  await expect(page.getByTestId('status')).toHaveText('ready');
  const after = (await runsOf('slow'))[0]!;
  expect(after.id).toBe(before.id);
  expect(after.status).toBe('succeeded');
});
