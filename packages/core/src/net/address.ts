/*
 * One classification of IP addresses for every check Parley makes: which addresses plugins,
 * MCP servers and the egress proxy may reach on a multi-user server (public ones), and which
 * count as this machine (loopback). It parses every form a socket or a URL accepts — IPv4 as
 * inet_aton reads it (0x7f.1, 2130706433, 0177.0.0.1), IPv6 with brackets, a zone id or a
 * dotted tail — and looks through the IPv6 forms that carry an IPv4 address: mapped
 * (::ffff:a.b.c.d, which the kernel connects to as IPv4), NAT64 (64:ff9b::/96). Forms no one
 * should connect to on purpose (IPv4-compatible ::a.b.c.d, translated ::ffff:0:a.b.c.d, 6to4,
 * Teredo, local NAT64) are never public, whatever they carry.
 *
 * Classify the address a connection is made to (after DNS, at connect time): a host name is
 * not an address, and a name that resolves to loopback is only known to at lookup.
 */

export type AddressKind =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'unspecified'
  | 'multicast'
  | 'reserved';

export interface ClassifiedAddress {
  family: 4 | 6;
  /** The address written canonically (`127.0.0.1`, `::ffff:7f00:1`). */
  address: string;
  kind: AddressKind;
  /** The IPv4 address this IPv6 address carries, for the forms that carry one. */
  ipv4?: string;
}

type Range = readonly [prefix: readonly number[], bits: number, kind: AddressKind];

/** IANA's special-purpose IPv4 registry, by what reaching it means. */
const IPV4_RANGES: readonly Range[] = [
  [[0], 8, 'unspecified'], // "this network"
  [[10], 8, 'private'],
  [[100, 64], 10, 'private'], // carrier-grade NAT
  [[127], 8, 'loopback'],
  [[169, 254], 16, 'link-local'], // and cloud metadata (169.254.169.254)
  [[172, 16], 12, 'private'],
  [[192, 0, 0], 24, 'reserved'], // IETF protocol assignments
  [[192, 0, 2], 24, 'reserved'], // documentation
  [[192, 88, 99], 24, 'reserved'], // 6to4 relay anycast
  [[192, 168], 16, 'private'],
  [[198, 18], 15, 'reserved'], // benchmarking
  [[198, 51, 100], 24, 'reserved'], // documentation
  [[203, 0, 113], 24, 'reserved'], // documentation
  [[224], 4, 'multicast'],
  [[240], 4, 'reserved'], // and the broadcast address
];

/** IPv6 ranges, as 16-bit groups; the IPv4-carrying forms are handled before these. */
const IPV6_RANGES: readonly Range[] = [
  [[0x64, 0xff9b, 1], 48, 'private'], // local-use NAT64
  [[0x100, 0, 0, 0], 64, 'reserved'], // discard
  [[0x2001, 0], 32, 'reserved'], // Teredo
  [[0x2001, 0xdb8], 32, 'reserved'], // documentation
  [[0x2001], 23, 'reserved'], // IETF protocol assignments (ORCHID, benchmarking, …)
  [[0x2002], 16, 'reserved'], // 6to4: carries any IPv4 address
  [[0x3fff, 0], 20, 'reserved'], // documentation
  [[0x5f00], 16, 'reserved'], // segment routing
  [[0xfc00], 7, 'private'], // unique local
  [[0xfe80], 10, 'link-local'],
  [[0xfec0], 10, 'private'], // site-local (deprecated)
  [[0xff00], 8, 'multicast'],
];

function inRange(units: readonly number[], width: number, [prefix, bits]: Range): boolean {
  for (let i = 0; i * width < bits; i++) {
    const take = Math.min(width, bits - i * width);
    const shift = width - take;
    if (units[i]! >> shift !== prefix[i]! >> shift) return false;
  }
  return true;
}

/** One part of an IPv4 address as inet_aton reads it: decimal, 0x hex, or 0-led octal. */
function ipv4Part(part: string): number | undefined {
  if (/^0x[0-9a-f]*$/i.test(part)) return part.length === 2 ? 0 : Number.parseInt(part, 16);
  if (/^0[0-7]+$/.test(part)) return Number.parseInt(part, 8);
  if (/^(0|[1-9][0-9]*)$/.test(part)) return Number(part);
  return undefined;
}

/** 1 to 4 parts (`a`, `a.b`, `a.b.c`, `a.b.c.d`), the last filling the remaining bytes. */
export function parseIpv4(text: string): number[] | undefined {
  const parts = text.replace(/\.$/, '').split('.');
  if (parts.length > 4 || parts.some((p) => p === '')) return undefined;
  const values = parts.map(ipv4Part);
  if (values.some((v) => v === undefined)) return undefined;
  const numbers = values as number[];
  const last = numbers.pop()!;
  if (numbers.some((n) => n > 255) || last >= 256 ** (4 - numbers.length)) return undefined;
  const tail = [24, 16, 8, 0]
    .slice(numbers.length)
    .map((shift) => Math.floor(last / 2 ** shift) % 256);
  return [...numbers, ...tail];
}

/** Eight 16-bit groups, or undefined. A dotted IPv4 tail is strict dotted decimal. */
function parseIpv6(text: string): number[] | undefined {
  if (!/^[0-9a-f:.]+$/i.test(text) || text.split('::').length > 2) return undefined;
  let body = text;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const dotted = text.slice(lastColon + 1);
  if (dotted.includes('.')) {
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(dotted)) return undefined;
    const b = dotted.split('.').map(Number);
    if (b.some((n) => n > 255)) return undefined;
    tail.push((b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!);
    body = text.slice(0, lastColon + 1);
    if (!body.endsWith('::')) body = body.slice(0, -1);
  }
  const want = 8 - tail.length;
  let groups = body.split(':');
  if (body.includes('::')) {
    const [head = '', rest = ''] = body.split('::');
    const before = head === '' ? [] : head.split(':');
    const after = rest === '' ? [] : rest.split(':');
    if (before.length + after.length >= want) return undefined;
    groups = [...before, ...Array<string>(want - before.length - after.length).fill('0'), ...after];
  }
  if (groups.length !== want || groups.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return undefined;
  return [...groups.map((g) => Number.parseInt(g, 16)), ...tail];
}

function classifyIpv4(bytes: readonly number[]): AddressKind {
  return IPV4_RANGES.find((range) => inRange(bytes, 8, range))?.[2] ?? 'public';
}

function ipv4Text(hi: number, lo: number): string {
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

function ipv6Text(groups: readonly number[]): string {
  // The WHATWG URL serializer writes the canonical (RFC 5952) form.
  return new URL(`http://[${groups.map((g) => g.toString(16)).join(':')}]`).hostname.slice(1, -1);
}

function classifyIpv6(g: readonly number[]): ClassifiedAddress {
  const address = ipv6Text(g);
  const carried = ipv4Text(g[6]!, g[7]!);
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 8)) return { family: 6, address, kind: 'unspecified' };
  if (zeros(0, 7) && g[7] === 1) return { family: 6, address, kind: 'loopback' };
  // IPv4-mapped: a socket connects to the IPv4 address itself.
  if (zeros(0, 5) && g[5] === 0xffff) {
    const kind = classifyIpv4(carried.split('.').map(Number));
    return { family: 6, address, kind, ipv4: carried };
  }
  // NAT64 (well-known prefix): the translator connects to the IPv4 address.
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) {
    const kind = classifyIpv4(carried.split('.').map(Number));
    return { family: 6, address, kind, ipv4: carried };
  }
  // IPv4-compatible (deprecated) and IPv4-translated: never a legitimate destination.
  if (zeros(0, 6) || (zeros(0, 4) && g[4] === 0xffff && g[5] === 0))
    return { family: 6, address, kind: 'reserved', ipv4: carried };
  const listed = IPV6_RANGES.find((range) => inRange(g, 16, range))?.[2];
  // Only 2000::/3 is global unicast.
  const kind = listed ?? (g[0]! >> 13 === 1 ? 'public' : 'reserved');
  return { family: 6, address, kind };
}

/**
 * The address `text` names, classified; undefined when it is not an IP address (a host name).
 * Takes what URLs and sockets take: `[::1]`, `fe80::1%eth0`, `0x7f.1`, `2130706433`.
 */
export function classifyAddress(text: string): ClassifiedAddress | undefined {
  const bare = text
    .trim()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/%[^%]*$/, '');
  if (bare.includes(':')) {
    const groups = parseIpv6(bare);
    return groups ? classifyIpv6(groups) : undefined;
  }
  const bytes = parseIpv4(bare);
  if (!bytes) return undefined;
  return { family: 4, address: bytes.join('.'), kind: classifyIpv4(bytes) };
}

/** True for an address on the public internet; false for anything else, host names included. */
export function isPublicAddress(text: string): boolean {
  return classifyAddress(text)?.kind === 'public';
}

/** True for an address only this machine reaches: 127.0.0.0/8, ::1, ::ffff:127.x.y.z. */
export function isLoopbackAddress(text: string): boolean {
  return classifyAddress(text)?.kind === 'loopback';
}

/** A URL host that is this machine: a loopback address or `localhost` itself. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  return host === 'localhost' || isLoopbackAddress(host);
}
