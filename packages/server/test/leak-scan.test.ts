import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CANARY, findLeaks, LeakError, scriptedAgent, startTestServer } from './support/harness.ts';
import { createLeakSink } from './support/leak-scan.ts';

/*
 * The leak scanner itself (support/leak-scan.ts): what it flags and what it leaves alone, and
 * that the harness really fails a server whose log or run events carry a credential or the
 * canary. The deliberate leaks here are caught by expecting close() to reject, so the suite
 * stays green while proving the scan can fail.
 */

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A token in Parley's format (packages/store/src/auth/tokens.ts), built independently. */
function parleyToken(body = randomBase62(30)): string {
  const head = `prl_${body}`;
  let n = crc32(Buffer.from(head, 'utf8'));
  let checksum = '';
  for (let i = 0; i < 6; i++) {
    checksum = BASE62[n % 62] + checksum;
    n = Math.floor(n / 62);
  }
  return head + checksum;
}

function randomBase62(length: number): string {
  return [...randomBytes(length)].map((b) => BASE62[b % 62]).join('');
}

const patternsIn = (text: string) => findLeaks(text).map((f) => f.pattern);

describe('the leak patterns', () => {
  it('flag OpenAI and Anthropic keys, Parley tokens with a valid checksum, and long bearer credentials', () => {
    const openai = `sk-proj-${randomBase62(40)}`;
    const legacy = `sk-${randomBase62(48)}`;
    const anthropic = `sk-ant-api03-${randomBase62(40)}`;
    const token = parleyToken();
    expect(patternsIn(`{"msg":"calling with ${openai}"}`)).toEqual(['openai-key']);
    expect(patternsIn(`key=${legacy}`)).toEqual(['openai-key']);
    expect(patternsIn(`"${anthropic}"`)).toEqual(['anthropic-key']);
    expect(patternsIn(`{"token":"${token}"}`)).toEqual(['parley-token']);
    expect(patternsIn(`authorization: Bearer ${randomBase62(32)}`)).toEqual(['bearer']);
    // A bearer header with a Parley token is both.
    expect(patternsIn(`Bearer ${token}`).sort()).toEqual(['bearer', 'parley-token']);
    expect(findLeaks('… the canary value here …', { needles: ['canary value'] })).toEqual([
      { pattern: 'canary', match: 'canary value' },
    ]);
  });

  it('leave alone what only looks like one: bad checksums, short fakes, words ending in sk-', () => {
    const token = parleyToken();
    const typo = `${token.slice(0, 10)}${token[10] === 'A' ? 'B' : 'A'}${token.slice(11)}`;
    expect(patternsIn(typo)).toEqual([]);
    expect(patternsIn(`${token}x`)).toEqual([]);
    expect(patternsIn('prl_short')).toEqual([]);
    expect(patternsIn('Send the token as "Authorization: Bearer prl_…".')).toEqual([]);
    expect(patternsIn('sk-test-1234')).toEqual([]);
    expect(patternsIn(`task-${randomBase62(30)} disk-${randomBase62(30)}`)).toEqual([]);
    expect(
      patternsIn('{"reqId":"6f1c3f0e-1d2b-4c3a-9e8f-7a6b5c4d3e2f","bearer":"[Redacted]"}'),
    ).toEqual([]);
    expect(patternsIn(`Bearer ${'x'.repeat(10)}`)).toEqual([]);
  });

  it('the sink keeps findings masked, never the secret, and forwards every line', () => {
    const forwarded: string[] = [];
    const sink = createLeakSink({
      forward: (line) => forwarded.push(line),
      currentTest: () => 't1',
    });
    const token = parleyToken();
    sink.write('{"msg":"fine"}\n');
    sink.write(`{"msg":"oops ${token}"}\n`);
    expect(sink.lines).toBe(2);
    expect(forwarded).toHaveLength(2);
    expect(sink.leaks).toEqual([
      {
        pattern: 'parley-token',
        where: 'log',
        test: 't1',
        sample: `${token.slice(0, 8)}…${token.slice(-2)}`,
      },
    ]);
    expect(() => sink.check()).toThrow(LeakError);
    try {
      sink.check();
    } catch (error) {
      expect(String((error as Error).message)).not.toContain(token);
    }
    expect(() => createLeakSink().check()).not.toThrow();
  });
});

describe('the harness scan', () => {
  it('fails the server whose log carried a Parley token, naming the test', async () => {
    const server = await startTestServer({ engine: 'postgres' });
    const fake = parleyToken();
    server.app.log.info({ token: fake }, 'a careless line');
    const error = await server.close().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LeakError);
    const message = (error as LeakError).message;
    expect(message).toMatch(
      /parley-token in log \(test: .*fails the server whose log carried a Parley token, naming the test\)/,
    );
    expect(message).not.toContain(fake);
  });

  it('fails the server whose run events carried the canary', async () => {
    const server = await startTestServer({ engine: 'postgres' });
    const headers = {
      authorization: `Bearer ${server.token}`,
      'content-type': 'application/json',
      accept: 'application/json',
    };
    const text = `Here it is: ${CANARY}`;
    const created = await fetch(`${server.url}/v1/workspaces/${server.workspaceId}/agents`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        definition: scriptedAgent('teller', [[{ type: 'text', text }]]),
        deploy: true,
      }),
    });
    expect(created.status).toBe(201);
    const run = await fetch(
      `${server.url}/v1/workspaces/${server.workspaceId}/agents/teller/runs`,
      {
        method: 'POST',
        headers,
        body: JSON.stringify({ input: 'go' }),
      },
    );
    const { run: row } = (await run.json()) as { run: { id: string } };
    await expect(server.close()).rejects.toThrow(`canary in run ${row.id} events`);
  });

  it('scans the log of a test that keeps its own log stream, and still gives it every line', async () => {
    const lines: string[] = [];
    const server = await startTestServer({
      engine: 'postgres',
      logger: { level: 'info', stream: { write: (line: string) => void lines.push(line) } },
    });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    server.app.log.warn(`leaked sk-ant-${randomBase62(30)}`);
    await expect(server.close()).rejects.toThrow(/anthropic-key in log/);
    expect(lines.some((l) => l.includes('leaked sk-ant-'))).toBe(true);
    expect(lines.length).toBeGreaterThan(1);
  });
});
