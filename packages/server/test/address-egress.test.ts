import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect as netConnect, type Socket } from 'node:net';
import { startEgressProxy } from '@parley/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPublic, publicFetch } from '../src/runs/public-fetch.ts';

/*
 * Issue #30: `[::127.0.0.1]`-style (IPv4-compatible) and `::ffff:0:0/96` addresses passed the
 * public-address check. Every form of a loopback address is refused where the connection is
 * made — the egress proxy of sandboxed plugins, the fetch of plugins and HTTP MCP servers —
 * and the loopback service below never sees a request.
 */

const LOOPBACK_FORMS = [
  '127.0.0.1',
  '0x7f.1',
  '2130706433',
  '0177.0.0.1',
  '127.1',
  'localhost',
  '::1',
  '::ffff:127.0.0.1',
  '::ffff:7f00:1',
  '::127.0.0.1',
  '::7f00:1',
  '::ffff:0:127.0.0.1',
  '64:ff9b::7f00:1',
  '64:ff9b::127.0.0.1',
  '2002:7f00:1::',
  '64:ff9b:1::7f00:1',
];

let internal: Server;
let port = 0;
let hits = 0;

beforeAll(async () => {
  internal = createServer((_req, res) => {
    hits++;
    res.end('INTERNAL');
  });
  await new Promise<void>((resolve) => internal.listen(0, '127.0.0.1', resolve));
  port = (internal.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((resolve) => internal.close(resolve));
});

function outcome(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error) => resolve(error.name));
  });
}

const bracketed = (host: string) => (host.includes(':') ? `[${host}]` : host);

describe('every form of a loopback address is refused at connect time', () => {
  it.each(LOOPBACK_FORMS)('connectPublic(%s) is refused as not public', async (host) => {
    expect(await outcome(connectPublic(bracketed(host), port))).toBe('NonPublicAddressError');
    expect(hits).toBe(0);
  });

  it.each(LOOPBACK_FORMS)('publicFetch to http://%s is refused', async (host) => {
    await expect(publicFetch(`http://${bracketed(host)}:${port}/`)).rejects.toThrow(
      /not a public internet address/,
    );
    expect(hits).toBe(0);
  });

  it('the egress proxy with the server connect refuses each form, even when declared', async () => {
    const decisions: string[] = [];
    const proxy = await startEgressProxy({
      allow: LOOPBACK_FORMS.map((host) => `${host}:${port}`),
      onDecision: (d) => decisions.push(`${d.host}:${d.allowed}`),
      connect: connectPublic,
    });
    try {
      const proxyPort = Number(new URL(proxy.url).port);
      for (const host of LOOPBACK_FORMS) {
        const answer = await new Promise<string>((resolve, reject) => {
          const socket = netConnect(proxyPort, '127.0.0.1', () =>
            socket.write(`CONNECT ${bracketed(host)}:${port} HTTP/1.1\r\nhost: x\r\n\r\n`),
          );
          let text = '';
          socket.setEncoding('utf8');
          socket.on('data', (chunk: string) => {
            text += chunk;
          });
          socket.on('close', () => resolve(text.split('\r\n')[0] ?? ''));
          socket.on('error', reject);
        });
        expect(answer, host).toBe('HTTP/1.1 502 Bad Gateway');
      }
      expect(decisions.every((d) => d.endsWith(':true'))).toBe(true);
      expect(hits).toBe(0);
    } finally {
      await proxy.close();
    }
  });
});
