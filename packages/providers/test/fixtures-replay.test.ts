import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModel } from '../src/create-model.ts';
import type { ModelRequest } from '../src/model.ts';
import { collect } from './helpers/collect.ts';
import {
  type ExpectedHttpError,
  type ExpectedStream,
  expectHttpErrorOutcome,
  expectStreamOutcome,
  type Fixture,
  loadFixtures,
  providerForFixture,
} from './helpers/fixtures.ts';
import { type LoopbackServer, startLoopbackServer } from './helpers/loopback-server.ts';
import { parseHttpFixture, randomSlices, seededRandom, writeSlices } from './helpers/replay.ts';

const fixtures = loadFixtures();
/** Set REPLAY_SEED to replay a failing slicing exactly. */
const baseSeed = Number(process.env.REPLAY_SEED ?? Math.floor(Math.random() * 2 ** 31));

const request: ModelRequest = {
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'What is the weather in Paris?' },
  ],
  tools: [
    {
      name: 'get_weather',
      description: 'Current weather for a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } } },
    },
  ],
};

/** What the server replays for the current test. */
let current: { fixture: Fixture; random: () => number; maxSlice: number } | undefined;
let server: LoopbackServer;

beforeAll(async () => {
  server = await startLoopbackServer(async (_request, response) => {
    if (!current) return void response.destroy();
    const { fixture, random, maxSlice } = current;
    if (fixture.kind === 'http') {
      const http = parseHttpFixture(fixture.bytes);
      response.writeHead(http.status, http.statusText || undefined, http.headers.flat());
      await writeSlices(response, randomSlices(http.body, random, maxSlice), random);
    } else {
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      await writeSlices(response, randomSlices(fixture.bytes, random, maxSlice), random);
    }
    response.end();
  });
});
afterAll(() => server.close());

describe('every provider transcript replays to its expected outcome', () => {
  it('finds the shared transcripts', () => {
    expect(fixtures.filter((f) => f.source === 'shared').length).toBeGreaterThanOrEqual(34);
  });

  // Twice each: in tiny slices (1–7 bytes: split lines, split UTF-8, split `data:`), and in
  // larger ones (1–96 bytes); both with small random pauses.
  for (const fixture of fixtures) {
    for (const maxSlice of [7, 96]) {
      it(`${fixture.source}/${fixture.name}.${fixture.kind} in slices of ≤${maxSlice} bytes`, async () => {
        const seed = baseSeed + maxSlice + fixture.name.length;
        current = { fixture, random: seededRandom(seed), maxSlice };
        const provider = providerForFixture(fixture);
        const model = createModel({
          provider,
          model: 'fixture-model',
          apiKey: 'test-key',
          baseURL: server.baseURL,
          maxRetries: 0,
        });
        const events = await collect(model, request);
        const why = `${fixture.name} (${provider}, REPLAY_SEED=${seed - maxSlice - fixture.name.length})`;
        if (fixture.kind === 'http')
          expectHttpErrorOutcome(events, fixture.expected as ExpectedHttpError, why);
        else expectStreamOutcome(events, fixture.expected as ExpectedStream, why);
        expect(events[0], why).toMatchObject({ type: 'step.start', provider, attempt: 1 });
      });
    }
  }
});
