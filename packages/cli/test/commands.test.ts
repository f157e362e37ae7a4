import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createParleyClient } from '@parley/client';
import { startTestServer, type TestServer } from '@parley/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parley, testIo } from './support/io.ts';
import { shellWords } from './support/shell-words.ts';

/*
 * The parley commands that talk to a server, run in process against a real server on
 * loopback (PGlite): target resolution, run, deploy (plugins, secrets, idempotence), login,
 * tokens, secrets, agents, and the help and error surface.
 */

const agentYaml = (text: string) => `name: hello
instructions: Answer briefly.
model:
  provider: scripted
  model: demo
  script:
    - - { type: reasoning, text: "Let me think." }
      - { type: tool_call, name: calculator, args: { expression: "6 * 7" } }
    - - { type: text, text: "${text}" }
plugins:
  - name: '@parley/plugin-basics'
    version: ^0.1.0
requireApproval: []
`;

describe('parley against a server', () => {
  let server: TestServer;
  let project: string;
  const env = () => ({ PARLEY_SERVER: server.url, PARLEY_TOKEN: server.token });

  beforeAll(async () => {
    server = await startTestServer();
    project = await mkdtemp(join(tmpdir(), 'parley-project-'));
    await writeFile(join(project, 'agent.yaml'), agentYaml('6 × 7 is 42.'));
  });
  afterAll(async () => {
    await server?.close();
  });

  it('deploys the project agent, then sees nothing to do, then a new version after a change', async () => {
    const io = await testIo({ cwd: project, env: env() });
    const first = await parley(['deploy'], io);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Deployed hello v1');
    const again = await parley(['deploy', '--json'], io);
    expect(JSON.parse(again.stdout)).toMatchObject({ agent: 'hello', version: 1, created: false });
    await writeFile(join(project, 'agent.yaml'), agentYaml('It is 42.'));
    const changed = await parley(['deploy', '--json', '--note', 'shorter'], io);
    expect(JSON.parse(changed.stdout)).toMatchObject({ version: 2, created: true });
    const versions = await parley(['agents', 'versions', 'hello', '--json'], io);
    expect((JSON.parse(versions.stdout) as { note: string | null }[]).map((v) => v.note)).toEqual([
      'shorter',
      null,
    ]);
  });

  it('runs: streams text, reasoning, the tool call and its result, then a summary line', async () => {
    const io = await testIo({ cwd: project, env: env() });
    const result = await parley(['run', 'what is 6 * 7?'], io);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Let me think.');
    expect(result.stdout).toContain('→ calculator({"expression":"6 * 7"})');
    expect(result.stdout).toMatch(/← calculator \{"expression":"6 \* 7","result":42\} \d+ ms/);
    expect(result.stdout).toContain('It is 42.');
    expect(result.stdout).toMatch(/ttft \d+ ms · [\d,]+ in \/ [\d,]+ out tokens · [\d.]+ s/);
    const json = await parley(['run', 'again', '--json'], io);
    expect(JSON.parse(json.stdout)).toMatchObject({ outcome: 'run.finish', text: 'It is 42.' });
  });

  it('refuses tools that ask for approval unless --approve', async () => {
    await writeFile(
      join(project, 'agent.yaml'),
      agentYaml('It is 42.').replace('requireApproval: []', 'requireApproval: [calculator]'),
    );
    const io = await testIo({ cwd: project, env: env() });
    expect((await parley(['deploy', '--yes'], io)).code).toBe(0);
    const denied = await parley(['run', 'compute'], io);
    expect(denied.stdout).toContain('needs your approval');
    expect(denied.stdout).toContain('denied: pass --approve');
    expect(denied.stdout).toMatch(/← calculator failed/);
    const approved = await parley(['run', 'compute', '--approve'], io);
    expect(approved.stdout).toContain('(approved by --approve)');
    expect(approved.stdout).toMatch(/← calculator \{/);
    await writeFile(join(project, 'agent.yaml'), agentYaml('It is 42.'));
    await parley(['deploy', '--yes'], io);
  });

  it('sends only the secrets the agent declares, with --yes, and never prints them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parley-keyed-'));
    await writeFile(
      join(dir, 'agent.yaml'),
      `name: keyed\ninstructions: x\nmodel: { provider: openai, model: gpt-4.1-mini, baseURL: "http://127.0.0.1:9/v1" }\n`,
    );
    await writeFile(
      join(dir, '.env'),
      'OPENAI_API_KEY="sk-test-abcdefgh12345678"\nUNRELATED=nope\n',
    );
    const io = await testIo({ cwd: dir, env: env() });
    const noTerminal = await parley(['deploy'], io);
    expect(noTerminal.code).toBe(2);
    expect(noTerminal.stderr).toContain('--yes');
    const sent = await parley(['deploy', '--yes', '--json'], io);
    expect(JSON.parse(sent.stdout)).toMatchObject({
      agent: 'keyed',
      secretsSent: ['OPENAI_API_KEY'],
    });
    expect(sent.stdout).not.toContain('abcdefgh');
    const client = createParleyClient({ baseUrl: server.url, token: server.token });
    const names = (await client.secrets.list(server.workspaceId)).map((s) => s.name);
    expect(names).toContain('OPENAI_API_KEY');
    expect(names).not.toContain('UNRELATED');
    // Same value again: nothing to send.
    const again = await parley(['deploy', '--yes', '--json'], io);
    expect(JSON.parse(again.stdout)).toMatchObject({ secretsSent: [] });
  });

  it('prints the try-it command with the agent name quoted, as a shell reads it back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parley-spaced-'));
    await writeFile(
      join(dir, 'agent.yaml'),
      `name: J A R V I S\ninstructions: x\nmodel: { provider: scripted, model: demo }\n`,
    );
    const io = await testIo({ cwd: dir, env: env() });
    const result = await parley(['deploy'], io);
    expect(result.code).toBe(0);
    const tryIt = /try it: (parley run .*)$/m.exec(result.stdout)?.[1];
    expect(tryIt).toBeDefined();
    expect(shellWords(tryIt!)).toEqual([
      'parley',
      'run',
      'hello',
      '--server',
      server.url,
      '--agent',
      'J A R V I S',
    ]);
  });

  it('refuses to deploy an agent whose plugin the server does not have', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parley-plug-'));
    await writeFile(
      join(dir, 'agent.yaml'),
      `name: plug\ninstructions: x\nmodel: { provider: scripted, model: demo }\nplugins:\n  - { name: '@parley/plugin-basics', version: '^9.0.0' }\n  - { name: '@acme/plugin-nope' }\n`,
    );
    const io = await testIo({ cwd: dir, env: env() });
    const result = await parley(['deploy'], io);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('@parley/plugin-basics@^9.0.0 is wanted, the server has 0.1.0');
    expect(result.stderr).toContain('@acme/plugin-nope is not installed there');
  });

  it('finds the local server from .parley/credentials, and logs in with a token (config 0600)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parley-local-'));
    const io = await testIo({ cwd: dir });
    const none = await parley(['agents', 'list'], io);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('No Parley server');
    const login = await parley(['login', server.url, '--token', server.token], io);
    expect(login.code).toBe(0);
    const configPath = join(io.env.XDG_CONFIG_HOME!, 'parley', 'config.json');
    expect((await stat(configPath)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(configPath, 'utf8'))).toMatchObject({ current: server.url });
    const listed = await parley(['agents', 'list', '--json'], io);
    expect((JSON.parse(listed.stdout) as { name: string }[]).map((a) => a.name)).toContain('hello');
    const bad = await parley(
      ['login', server.url, '--token', 'prl_nottherealthing1234567890abcdefgh'],
      io,
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('refused the token');
  });

  it('manages tokens and secrets, never taking a secret value from argv', async () => {
    const io = await testIo({ env: env() });
    const created = await parley(
      ['token', 'create', 'ci', '--scopes', 'agents:read', '--days', '7', '--json'],
      io,
    );
    const { token, info } = JSON.parse(created.stdout) as { token: string; info: { id: string } };
    expect(token).toMatch(/^prl_/);
    const list = await parley(['token', 'list'], io);
    expect(list.stdout).toContain('ci');
    expect(list.stdout).not.toContain(token);
    expect((await parley(['token', 'revoke', info.id], io)).code).toBe(0);
    expect((await parley(['token', 'create', 'x', '--days', '999'], io)).code).toBe(2);
    const argv = await parley(['secrets', 'set', 'API', 'sk-in-argv'], io);
    expect(argv.code).toBe(2);
    const piped = await testIo({ env: env() });
    piped.type('sk-from-stdin-123456\n');
    const set = await parley(['secrets', 'set', 'PIPED_KEY'], piped);
    expect(set.stdout).toContain('Stored PIPED_KEY (…3456), encrypted.');
    const secrets = await parley(['secrets', 'list', '--json'], io);
    expect(secrets.stdout).toContain('PIPED_KEY');
    expect(secrets.stdout).not.toContain('sk-from-stdin');
    expect((await parley(['secrets', 'rm', 'PIPED_KEY', '--yes'], io)).code).toBe(0);
  });

  it('explains mistakes in one line', async () => {
    const io = await testIo({ env: env() });
    const unknown = await parley(['dpeloy'], io);
    expect(unknown).toMatchObject({ code: 2 });
    expect(unknown.stderr).toContain('Did you mean "parley deploy"?');
    const help = await parley(['run', '--help'], io);
    expect(help.stdout).toContain('Examples:');
    const overview = await parley([], io);
    expect(overview.stdout).toContain('parley create my-agent');
    const missing = await parley(['agents', 'show', 'nobody'], io);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('(resource.not_found)');
    const down = await testIo({
      env: {
        PARLEY_SERVER: 'http://127.0.0.1:9',
        PARLEY_TOKEN: server.token,
        PARLEY_WORKSPACE: server.workspaceId,
      },
    });
    const unreachable = await parley(['agents', 'list'], down);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('Is the server running?');
    expect(unreachable.stderr).not.toMatch(/\n\s+at /);
  });
});
