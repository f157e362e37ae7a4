import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  AgentConfigError,
  CORE_VERSION,
  createPluginHost,
  defineAgent,
  defineTool,
  PermissionDeniedError,
  type PluginAuditEvent,
  PluginCompatibilityError,
  type PluginDefinition,
  type PluginLogEntry,
} from '../src/index.ts';

const base: PluginDefinition = {
  name: 'plugin-demo',
  version: '1.2.0',
  contract: 1,
  core: '^0.1.0',
};
let server: Server;
let origin: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/redirect-out') {
      res.writeHead(302, { location: 'http://example.invalid/steal' }).end();
    } else if (req.url === '/redirect-in') {
      res.writeHead(302, { location: '/hello' }).end();
    } else {
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`hello from ${req.url}`);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function contextFor(
  plugin: PluginDefinition,
  options: Parameters<typeof createPluginHost>[0] = {},
) {
  const host = createPluginHost(options);
  host.register(plugin);
  return host.createToolContext(plugin, {
    toolCallId: 'call_1',
    agentId: 'agt_1',
    conversationId: 'conv_1',
    signal: new AbortController().signal,
    memory: {
      remember: async () => {
        throw new Error('unused');
      },
      recall: async () => [],
    },
  });
}

describe('plugin compatibility', () => {
  const refused: [string, Partial<PluginDefinition>, RegExp][] = [
    [
      'a newer contract',
      { contract: 2 },
      /targets plugin contract 2; this core speaks contract 1\. Upgrade @parley\/core/,
    ],
    ['an older contract', { contract: 0 }, /Upgrade the plugin/],
    ['an unbounded core range (*)', { core: '*' }, /has no upper bound/],
    ['an unbounded core range (>=)', { core: '>=0.1.0' }, /has no upper bound/],
    [
      'a range that excludes this core',
      { core: '^2.0.0' },
      new RegExp(
        `supports @parley/core \\^2\\.0\\.0, but this is ${CORE_VERSION.replaceAll('.', '\\.')}`,
      ),
    ],
    ['a range that is not semver', { core: 'latest' }, /not a semver range/],
    ['a version that is not semver', { version: 'one' }, /not a semver version/],
    ['a name that is not an npm name', { name: 'Bad Name' }, /npm package name/],
    ['a malformed host', { permissions: { network: ['https://x.com/path'] } }, /must be a host/],
    ['a malformed secret name', { permissions: { secrets: ['lower'] } }, /UPPER_SNAKE_CASE/],
  ];
  for (const [what, change, message] of refused) {
    it(`refuses ${what} with a message that says what to change`, () => {
      const host = createPluginHost();
      const attempt = () => host.register({ ...base, ...change });
      expect(attempt).toThrow(PluginCompatibilityError);
      expect(attempt).toThrow(message);
    });
  }

  it('accepts a bounded range that includes this core, once', () => {
    const host = createPluginHost();
    host.register(base);
    expect(host.plugins().map((p) => p.name)).toEqual(['plugin-demo']);
    expect(() => host.register(base)).toThrow(/already installed/);
  });

  it('keeps the version constant equal to package.json', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(CORE_VERSION).toBe(pkg.version);
  });
});

describe('resolving an agent', () => {
  const tool = (name: string) =>
    defineTool({ name, description: name, input: z.object({}), run: () => name });
  const host = createPluginHost();
  host.register({ ...base, tools: [tool('a'), tool('b')] });
  host.register({ ...base, name: 'plugin-other', tools: [tool('a')] });
  const agent = (extra: object) =>
    defineAgent({
      name: 'x',
      instructions: 'x',
      model: { provider: 'scripted', model: 'echo' },
      ...extra,
    });

  it('gives the tools of the agent plugins, narrowed by the allow-list', () => {
    const resolved = host.resolve(
      agent({ plugins: [{ name: 'plugin-demo', version: '^1.0.0' }], tools: ['b'] }),
    );
    expect([...resolved.tools.keys()]).toEqual(['b']);
  });
  it('refuses a missing plugin, a version mismatch, an unknown allowed tool, a tool clash', () => {
    expect(() => host.resolve(agent({ plugins: [{ name: 'plugin-nope' }] }))).toThrow(
      /plugin-nope, which is not installed/,
    );
    expect(() =>
      host.resolve(agent({ plugins: [{ name: 'plugin-demo', version: '^2' }] })),
    ).toThrow(/wants plugin-demo@\^2, but 1\.2\.0 is installed/);
    expect(() =>
      host.resolve(agent({ plugins: [{ name: 'plugin-demo' }], tools: ['zzz'] })),
    ).toThrow(AgentConfigError);
    expect(() =>
      host.resolve(agent({ plugins: [{ name: 'plugin-demo' }, { name: 'plugin-other' }] })),
    ).toThrow(/defined by both/);
  });
});

describe('tool context permissions', () => {
  it('exposes declared secrets, refuses and audits undeclared ones', async () => {
    const audits: PluginAuditEvent[] = [];
    const { context } = contextFor(
      { ...base, permissions: { secrets: ['DEMO_KEY'] } },
      {
        secrets: (name) => ({ DEMO_KEY: 'demo-secret-value', OTHER_KEY: 'other-secret' })[name],
        audit: (e) => audits.push(e),
      },
    );
    await expect(context.secrets.get('DEMO_KEY')).resolves.toBe('demo-secret-value');
    await expect(context.secrets.get('OTHER_KEY')).rejects.toThrow(PermissionDeniedError);
    await expect(context.secrets.get('OTHER_KEY')).rejects.toThrow(
      /did not declare the secret OTHER_KEY \(declared: DEMO_KEY\)/,
    );
    expect(audits.map((a) => [a.action, a.resource])).toEqual([
      ['plugin.secret_read', 'DEMO_KEY'],
      ['plugin.permission_denied', 'OTHER_KEY'],
      ['plugin.permission_denied', 'OTHER_KEY'],
    ]);
  });

  it('says how to set a declared secret that is missing', async () => {
    const { context } = contextFor({ ...base, permissions: { secrets: ['DEMO_KEY'] } });
    await expect(context.secrets.get('DEMO_KEY')).rejects.toThrow(/parley secrets set DEMO_KEY/);
  });

  it('fetches declared hosts over real HTTP and refuses others, audited', async () => {
    const audits: PluginAuditEvent[] = [];
    const { context } = contextFor(
      { ...base, permissions: { network: ['127.0.0.1'] } },
      { audit: (e) => audits.push(e) },
    );
    const response = await context.fetch(`${origin}/hello`);
    expect(await response.text()).toBe('hello from /hello');
    await expect(context.fetch('http://localhost:1/')).rejects.toThrow(
      /did not declare network access to localhost:1/,
    );
    await expect(context.fetch('file:///etc/passwd')).rejects.toThrow(/only fetch http/);
    expect(
      audits.some((a) => a.action === 'plugin.permission_denied' && a.resource === 'localhost:1'),
    ).toBe(true);
  });

  it('checks every redirect hop against the declared hosts', async () => {
    const { context } = contextFor({ ...base, permissions: { network: ['127.0.0.1'] } });
    expect(await (await context.fetch(`${origin}/redirect-in`)).text()).toBe('hello from /hello');
    await expect(context.fetch(`${origin}/redirect-out`)).rejects.toThrow(/example\.invalid/);
  });

  it('matches ports and wildcard subdomains exactly', async () => {
    const port = new URL(origin).port;
    const wrongPort = contextFor({
      ...base,
      permissions: { network: [`127.0.0.1:${Number(port) + 1}`] },
    });
    await expect(wrongPort.context.fetch(`${origin}/x`)).rejects.toThrow(PermissionDeniedError);
    const rightPort = contextFor({ ...base, permissions: { network: [`127.0.0.1:${port}`] } });
    expect((await rightPort.context.fetch(`${origin}/x`)).status).toBe(200);
    const wildcard = contextFor({ ...base, permissions: { network: ['*.example.com'] } });
    await expect(wildcard.context.fetch('https://evil-example.com/')).rejects.toThrow(
      PermissionDeniedError,
    );
    await expect(wildcard.context.fetch('https://example.com.evil.net/')).rejects.toThrow(
      PermissionDeniedError,
    );
  });

  it('redacts secrets the tool read from logs and results', async () => {
    const logs: PluginLogEntry[] = [];
    const { context, redact } = contextFor(
      { ...base, permissions: { secrets: ['DEMO_KEY'] } },
      { secrets: () => 'demo-secret-value', log: (entry) => logs.push(entry) },
    );
    const key = await context.secrets.get('DEMO_KEY');
    context.log.info(`calling with ${key}`, {
      headers: { authorization: 'Bearer abc' },
      echo: key,
    });
    expect(JSON.stringify(logs)).not.toContain('demo-secret-value');
    expect(logs[0]).toMatchObject({
      message: 'calling with [REDACTED]',
      data: { headers: { authorization: '[REDACTED]' }, echo: '[REDACTED]' },
    });
    expect(redact({ nested: [`x${key}y`] })).toEqual({ nested: ['x[REDACTED]y'] });
  });
});
