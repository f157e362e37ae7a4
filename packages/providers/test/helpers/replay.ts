import type { ServerResponse } from 'node:http';

/** A small seeded PRNG (mulberry32), so a failing random slicing can be replayed by its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Cuts bytes into random slices of 1..maxSlice bytes (splitting UTF-8 characters and lines). */
export function randomSlices(
  bytes: Uint8Array,
  random: () => number,
  maxSlice: number,
): Uint8Array[] {
  const slices: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    const size = 1 + Math.floor(random() * maxSlice);
    slices.push(bytes.subarray(at, at + size));
    at += size;
  }
  return slices;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Writes the slices one by one, now and then pausing 1–3 ms, so the client sees the body in
 * many network reads. Stops quietly when the client has gone.
 */
export async function writeSlices(
  response: ServerResponse,
  slices: Uint8Array[],
  random: () => number,
  pauseChance = 0.08,
): Promise<void> {
  // About 150 pauses at most, so a 100 KB transcript in 1–7 byte slices stays quick.
  const chance = Math.min(pauseChance, 150 / Math.max(1, slices.length));
  for (const slice of slices) {
    if (response.destroyed || response.writableEnded) return;
    response.write(slice);
    if (random() < chance) await pause(1 + Math.floor(random() * 3));
  }
}

/** A whole HTTP response as stored in a `*.http` fixture: status line, CRLF headers, body. */
export interface HttpFixture {
  status: number;
  statusText: string;
  headers: [string, string][];
  body: Uint8Array;
}

export function parseHttpFixture(bytes: Uint8Array): HttpFixture {
  const text = Buffer.from(bytes).toString('latin1');
  const split = text.indexOf('\r\n\r\n');
  if (split < 0) throw new Error('an .http fixture needs a blank line after its headers');
  const [statusLine = '', ...headerLines] = text.slice(0, split).split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(statusLine);
  if (!match) throw new Error(`bad status line: ${statusLine}`);
  return {
    status: Number(match[1]),
    statusText: match[2] ?? '',
    headers: headerLines.map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
    }),
    body: bytes.subarray(Buffer.byteLength(text.slice(0, split + 4), 'latin1')),
  };
}
