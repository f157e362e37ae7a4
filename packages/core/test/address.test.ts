import { describe, expect, it } from 'vitest';
import {
  type AddressKind,
  classifyAddress,
  isLoopbackAddress,
  isLoopbackHost,
  isPublicAddress,
} from '../src/net/address.ts';

/** [as written, kind, canonical address] — every form a URL, a socket or a proxy may carry. */
const TABLE: readonly (readonly [string, AddressKind, string])[] = [
  // IPv4, dotted and the forms inet_aton and the WHATWG URL parser also read
  ['8.8.8.8', 'public', '8.8.8.8'],
  ['127.0.0.1', 'loopback', '127.0.0.1'],
  ['127.255.255.254', 'loopback', '127.255.255.254'],
  ['0x7f.1', 'loopback', '127.0.0.1'],
  ['0x7f000001', 'loopback', '127.0.0.1'],
  ['2130706433', 'loopback', '127.0.0.1'],
  ['0177.0.0.1', 'loopback', '127.0.0.1'],
  ['127.1', 'loopback', '127.0.0.1'],
  ['127.0.1', 'loopback', '127.0.0.1'],
  ['127.0.0.1.', 'loopback', '127.0.0.1'],
  ['0', 'unspecified', '0.0.0.0'],
  ['0.0.0.0', 'unspecified', '0.0.0.0'],
  ['10.1.2.3', 'private', '10.1.2.3'],
  ['012.1.2.3', 'private', '10.1.2.3'],
  ['100.64.0.1', 'private', '100.64.0.1'],
  ['100.128.0.1', 'public', '100.128.0.1'],
  ['172.16.0.1', 'private', '172.16.0.1'],
  ['172.31.255.255', 'private', '172.31.255.255'],
  ['172.32.0.1', 'public', '172.32.0.1'],
  ['192.168.1.1', 'private', '192.168.1.1'],
  ['0xc0.0xa8.1.1', 'private', '192.168.1.1'],
  ['169.254.169.254', 'link-local', '169.254.169.254'],
  ['2852039166', 'link-local', '169.254.169.254'],
  ['192.0.2.10', 'reserved', '192.0.2.10'],
  ['198.18.0.1', 'reserved', '198.18.0.1'],
  ['224.0.0.1', 'multicast', '224.0.0.1'],
  ['255.255.255.255', 'reserved', '255.255.255.255'],
  // IPv6 plain, with brackets and zone ids
  ['2606:4700:4700::1111', 'public', '2606:4700:4700::1111'],
  ['[2606:4700:4700::1111]', 'public', '2606:4700:4700::1111'],
  ['::1', 'loopback', '::1'],
  ['[::1]', 'loopback', '::1'],
  ['0:0:0:0:0:0:0:1', 'loopback', '::1'],
  ['::', 'unspecified', '::'],
  ['fe80::1%eth0', 'link-local', 'fe80::1'],
  ['[fe80::1%25eth0]', 'link-local', 'fe80::1'],
  ['fd00::1', 'private', 'fd00::1'],
  ['fc00::1', 'private', 'fc00::1'],
  ['fec0::1', 'private', 'fec0::1'],
  ['ff02::1', 'multicast', 'ff02::1'],
  ['2001:db8::1', 'reserved', '2001:db8::1'],
  ['3fff::1', 'reserved', '3fff::1'],
  ['100::1', 'reserved', '100::1'],
  ['4000::1', 'reserved', '4000::1'],
  // IPv4-mapped: the kernel connects to the IPv4 address
  ['::ffff:127.0.0.1', 'loopback', '::ffff:7f00:1'],
  ['[::ffff:127.0.0.1]', 'loopback', '::ffff:7f00:1'],
  ['::ffff:7f00:1', 'loopback', '::ffff:7f00:1'],
  ['0:0:0:0:0:ffff:7f00:1', 'loopback', '::ffff:7f00:1'],
  ['::ffff:169.254.169.254', 'link-local', '::ffff:a9fe:a9fe'],
  ['::ffff:10.0.0.1', 'private', '::ffff:a00:1'],
  ['::ffff:8.8.8.8', 'public', '::ffff:808:808'],
  // IPv4-compatible (deprecated ::/96) and IPv4-translated: never public
  ['::127.0.0.1', 'reserved', '::7f00:1'],
  ['[::127.0.0.1]', 'reserved', '::7f00:1'],
  ['::7f00:1', 'reserved', '::7f00:1'],
  ['::8.8.8.8', 'reserved', '::808:808'],
  ['::ffff:0:127.0.0.1', 'reserved', '::ffff:0:7f00:1'],
  ['::ffff:0:8.8.8.8', 'reserved', '::ffff:0:808:808'],
  // NAT64: the well-known prefix reaches the IPv4 address; the local-use one is private
  ['64:ff9b::7f00:1', 'loopback', '64:ff9b::7f00:1'],
  ['64:ff9b::127.0.0.1', 'loopback', '64:ff9b::7f00:1'],
  ['64:ff9b::a9fe:a9fe', 'link-local', '64:ff9b::a9fe:a9fe'],
  ['64:ff9b::808:808', 'public', '64:ff9b::808:808'],
  ['64:ff9b:1::808:808', 'private', '64:ff9b:1::808:808'],
  // 6to4 and Teredo carry any IPv4 address: never public
  ['2002:7f00:1::', 'reserved', '2002:7f00:1::'],
  ['2002:808:808::1', 'reserved', '2002:808:808::1'],
  ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'reserved', '2001:0:4136:e378:8000:63bf:3fff:fdd2'],
];

describe('address classification', () => {
  it.each(TABLE)('%s is %s (%s)', (text, kind, canonical) => {
    const classified = classifyAddress(text);
    expect(classified?.kind).toBe(kind);
    expect(classified?.address).toBe(canonical);
    expect(isPublicAddress(text)).toBe(kind === 'public');
    expect(isLoopbackAddress(text)).toBe(kind === 'loopback');
  });

  it('agrees with the WHATWG URL parser on every IPv4 and IPv6 form it reads', () => {
    for (const [text, , canonical] of TABLE) {
      if (text.includes('%')) continue; // URLs carry no zone ids
      const host = text.includes(':') && !text.startsWith('[') ? `[${text}]` : text;
      const hostname = new URL(`http://${host}/`).hostname.replace(/^\[|\]$/g, '');
      expect(hostname, text).toBe(canonical);
    }
  });

  it.each([
    'localhost',
    'example.com',
    '127.0.0.1.example.com',
    '0x7g.1',
    '256.1.1.1',
    '1.2.3.4.5',
    '4294967296',
    '08.1.1.1',
    '1..1',
    ':::1',
    '1:2:3:4:5:6:7:8:9',
    '::ffff:1.2.3',
    '::ffff:1.2.3.256',
    '12345::1',
    '',
  ])('%j is not an address (never public)', (text) => {
    expect(classifyAddress(text)).toBeUndefined();
    expect(isPublicAddress(text)).toBe(false);
  });

  it('loopback hosts are loopback addresses and localhost', () => {
    for (const host of ['localhost', 'LOCALHOST', 'localhost.', '127.0.0.1', '[::1]', '0x7f.1'])
      expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['localhost.example.com', '127.0.0.1.nip.io', '::127.0.0.1', '10.0.0.1'])
      expect(isLoopbackHost(host), host).toBe(false);
  });
});
