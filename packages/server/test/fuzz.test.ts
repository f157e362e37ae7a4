import { Agent, request as httpRequest, type IncomingHttpHeaders, STATUS_CODES } from 'node:http';
import { connect } from 'node:net';
import { api } from '@parley/protocol';
import { STORE_ERROR_CODES } from '@parley/store';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isOpenAiPath, openAiCodeOf } from '../src/clients/openai/errors.ts';
import type { RouteSpec } from '../src/http/route.ts';
import { ROUTES } from '../src/routes/index.ts';
import { client, scriptedAgent, startTestServer, type TestServer } from './support/harness.ts';

/*
 * Fuzzing every route of the route table against a real single-user server (PGlite): arbitrary
 * and nearly valid JSON bodies, malformed JSON, wrong content types, bodies over the route's
 * limit, odd headers (Authorization, Cookie, Last-Event-ID, Accept, Origin, …), odd path
 * parameters and query strings, odd methods. Whatever comes in, the answer is never 5xx; a
 * request generated to be wrong (the route's own zod schema is the oracle) gets 4xx; and every
 * error is application/problem+json whose `status` is the HTTP status, whose `code` is a known
 * code of that status and whose `title` names that status. After each property, /healthz.
 *
 * Runs are bounded (numRuns per route and kind below) and seed-free: each run explores new
 * inputs; a failure prints the seed and path that reproduce it. FUZZ_SCALE=10 digs deeper.
 */

const SCALE = Math.max(1, Number(process.env.FUZZ_SCALE ?? 1) || 1);
const runs = (n: number) => ({ numRuns: Math.ceil(n * SCALE) });

const GHOST = '6f1c3f0e-1d2b-4c3a-9e8f-7a6b5c4d3e2f';
const DEFAULT_BODY_LIMIT = 1024 * 1024;

let server: TestServer;
let base: URL;
const agent = new Agent({ keepAlive: true, maxSockets: 4 });
/** Session cookie of the local owner (POST /v1/auth/local), for person and operator routes. */
let sessionCookie = '';
const real: Record<string, string> = {};

// ── HTTP without a client's manners ─────────────────────────────────────────────────────────

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Sent {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body with Transfer-Encoding: chunked (no Content-Length). */
  chunked?: boolean;
}

/** One request with exactly these headers; reads the whole answer (SSE streams to their end). */
function send(sent: Sent, timeoutMs = 15_000): Promise<Answer> {
  const body = sent.body === undefined ? undefined : Buffer.from(sent.body);
  // Framing is explicit: Node sends a DELETE's body with neither Content-Length nor chunking.
  const framing =
    body === undefined
      ? {}
      : sent.chunked
        ? { 'transfer-encoding': 'chunked' }
        : { 'content-length': String(body.length) };
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: base.hostname,
        port: base.port,
        method: sent.method,
        path: sent.path,
        headers: { ...sent.headers, ...framing },
        agent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () =>
      req.destroy(new Error(`${sent.method} ${sent.path}: no complete answer in ${timeoutMs} ms`)),
    );
    req.on('error', reject);
    if (body !== undefined && sent.chunked) {
      for (let i = 0; i < body.length; i += 64 * 1024) req.write(body.subarray(i, i + 64 * 1024));
      req.end();
    } else req.end(body);
  });
}

/** A request written byte for byte on a socket: the path goes out as raw UTF-8, unescaped. */
function sendRaw(method: string, path: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(base.port), base.hostname);
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error(`raw ${method} ${path}: timeout`)));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      if (split < 0) return reject(new Error(`raw ${method} ${path}: no HTTP answer`));
      const [statusLine, ...lines] = all.subarray(0, split).toString('latin1').split('\r\n');
      const parsed: IncomingHttpHeaders = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        parsed[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      let body = all.subarray(split + 4);
      if (parsed['transfer-encoding'] === 'chunked') {
        const parts: Buffer[] = [];
        let at = 0;
        for (;;) {
          const eol = body.indexOf('\r\n', at);
          const size = Number.parseInt(body.subarray(at, eol).toString('latin1'), 16);
          if (!size) break;
          parts.push(body.subarray(eol + 2, eol + 2 + size));
          at = eol + 2 + size + 2;
        }
        body = Buffer.concat(parts);
      }
      resolve({
        status: Number(statusLine!.split(' ')[1]),
        headers: parsed,
        body: body.toString('utf8'),
      });
    });
    const head = [
      `${method} ${path} HTTP/1.1`,
      `host: ${base.host}`,
      'connection: close',
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    ].join('\r\n');
    socket.end(Buffer.from(`${head}\r\n\r\n`, 'utf8'));
  });
}

// ── What every answer must look like ────────────────────────────────────────────────────────

const KNOWN_STATUS: Record<string, number> = {
  ...Object.fromEntries(Object.entries(api.API_ERROR_CODES).map(([c, v]) => [c, v.status])),
  ...Object.fromEntries(Object.entries(STORE_ERROR_CODES).map(([c, v]) => [c, v.status])),
};
/** RFC 9110 renamed these two; Node still uses the older reason phrases. */
const RFC9110_TITLES: Record<number, string> = {
  413: 'Content Too Large',
  422: 'Unprocessable Content',
};

function titleFits(title: string, status: number): boolean {
  return [STATUS_CODES[status], RFC9110_TITLES[status]]
    .filter((t): t is string => t !== undefined)
    .some((t) => t.toLowerCase() === title.toLowerCase());
}

interface Expectation {
  /** The request was generated to be wrong: it must be refused with 4xx. */
  wrong?: boolean;
  /** The exact problem code it must get. */
  code?: string;
}

/**
 * The OpenAI-compatible routes' errors: OpenAI's body, whose code is OpenAI's for our code
 * (clients/openai/errors.ts) or our code itself, a known one of the status.
 */
function checkOpenAiError(shown: string, answer: Answer, expectation: Expectation): void {
  const type = String(answer.headers['content-type'] ?? '');
  if (!type.startsWith('application/json'))
    throw new Error(`an OpenAI-route error is not application/json: ${shown}`);
  const { error } = JSON.parse(answer.body) as {
    error?: { message?: unknown; type?: unknown; param?: unknown; code?: unknown };
  };
  if (
    !error ||
    typeof error.message !== 'string' ||
    typeof error.type !== 'string' ||
    (error.param !== null && typeof error.param !== 'string') ||
    typeof error.code !== 'string'
  )
    throw new Error(`error body is not OpenAI's: ${shown}`);
  const known = Object.entries(KNOWN_STATUS).some(
    ([code, status]) => status === answer.status && openAiCodeOf(code) === error.code,
  );
  if (!known)
    throw new Error(`code ${error.code} is not a code of status ${answer.status}: ${shown}`);
  if (expectation.code && error.code !== openAiCodeOf(expectation.code))
    throw new Error(`expected ${openAiCodeOf(expectation.code)}: ${shown}`);
}

/** Asserts the universal rules; throws a message naming the request and the answer. */
function check(what: string, answer: Answer, expectation: Expectation = {}): void {
  const shown = `${what}\n  → ${answer.status} ${answer.headers['content-type'] ?? ''} ${answer.body.slice(0, 400)}`;
  if (answer.status >= 500 || answer.status < 200) throw new Error(`server error: ${shown}`);
  if (answer.status < 400) {
    if (expectation.wrong || expectation.code)
      throw new Error(`a wrong request was accepted: ${shown}`);
    return;
  }
  if (answer.status >= 500) throw new Error(`server error: ${shown}`);
  const path = what.split(' ').find((word) => word.startsWith('/')) ?? '';
  // Node's HTTP parser refuses some requests before there is a request (no id): problem+json.
  const beforeTheApp = !answer.headers['x-request-id'];
  if (isOpenAiPath(path) && !beforeTheApp) {
    checkOpenAiError(shown, answer, expectation);
    return;
  }
  const type = String(answer.headers['content-type'] ?? '');
  if (!type.startsWith(api.PROBLEM_CONTENT_TYPE))
    throw new Error(`error is not application/problem+json: ${shown}`);
  let problem: api.Problem;
  try {
    problem = api.ProblemSchema.parse(JSON.parse(answer.body));
  } catch (error) {
    throw new Error(`error body is not a problem (${(error as Error).message}): ${shown}`);
  }
  if (problem.status !== answer.status)
    throw new Error(`problem.status ${problem.status} ≠ HTTP ${answer.status}: ${shown}`);
  if (KNOWN_STATUS[problem.code] !== answer.status)
    throw new Error(
      `code ${problem.code} is not a known code of status ${answer.status}: ${shown}`,
    );
  if (!titleFits(problem.title, answer.status))
    throw new Error(`title "${problem.title}" does not name status ${answer.status}: ${shown}`);
  if (problem.requestId !== answer.headers['x-request-id'])
    throw new Error(`problem.requestId ≠ x-request-id: ${shown}`);
  if (expectation.code && problem.code !== expectation.code)
    throw new Error(`expected ${expectation.code}: ${shown}`);
}

/** The server still answers, after whatever the property sent (`after` names it). */
async function stillUp(after = '') {
  const health = await send({ method: 'GET', path: '/healthz' });
  expect(health.status, `/healthz after ${after}`).toBe(200);
  expect(JSON.parse(health.body)).toEqual({ ok: true });
}

// ── Routes, their parameters and bodies ─────────────────────────────────────────────────────

const key = (route: RouteSpec) => `${route.method} ${route.url}`;
const paramNames = (route: RouteSpec) => [...route.url.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]!);
const hasBody = (route: RouteSpec) => route.method !== 'GET';
const bodyRoutes = ROUTES.filter(hasBody);
/**
 * Routes that parse JSON themselves. A chat platform's webhook takes the platform's bytes as
 * sent, whatever their type (Slack posts forms), and checks their signature before reading
 * them: the other properties (arbitrary bodies, sizes, headers) still hold for it.
 */
const jsonBodyRoutes = bodyRoutes.filter((route) => !route.rawBody);

/**
 * Parameters that would destroy the fixtures if a fuzzed request happened to be valid point at
 * nothing instead: validation still runs (it precedes the handler), the handler answers 404.
 */
const HARMLESS_TARGETS: Record<string, Record<string, string>> = {
  updateAgent: { agent: 'fuzz-ghost' },
  deleteAgent: { agent: 'fuzz-ghost' },
  saveAgentDraft: { agent: 'fuzz-ghost' },
  deleteSecret: { name: 'NO_SUCH_SECRET' },
  deleteKnowledgeBase: { base: 'fuzz-ghost-base' },
};

function paramsOf(route: RouteSpec): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of paramNames(route)) {
    const value = HARMLESS_TARGETS[route.operationId]?.[name] ?? real[name];
    if (value === undefined) throw new Error(`no fuzz value for :${name} of ${key(route)}`);
    values[name] = value;
  }
  return values;
}

function pathOf(route: RouteSpec, overrides: Record<string, string> = {}, raw = false): string {
  const values = { ...paramsOf(route), ...overrides };
  return route.url.replace(/:([A-Za-z]+)/g, (_, name: string) =>
    raw && name in overrides ? values[name]! : encodeURIComponent(values[name]!),
  );
}

/** A body each route with a body schema accepts (the fuzzers start from it). */
const TEMPLATES: Record<string, Record<string, unknown>> = {
  signUp: { email: 'fuzz@example.com', password: 'correct horse battery staple' },
  logIn: { email: 'fuzz@example.com', password: 'correct horse battery staple' },
  logOut: { everywhere: false },
  // Single-user: nobody redeems an operator code here (403); the fuzzers start from the shape.
  confirmOperator: { code: 'not-the-operator-code' },
  createWorkspace: { name: 'fuzz' },
  renameWorkspace: { name: 'Fuzzed workspace' },
  setMemberRole: { role: 'viewer' },
  createInvitation: { email: 'guest@example.com', role: 'viewer', expiresInDays: 3 },
  acceptInvitation: { token: 'not-an-invitation' },
  createToken: { name: 'fuzz', scopes: ['agents:read'], expiresInDays: 1 },
  putSecret: { value: 'fuzz-secret-value' },
  createAgent: { definition: scriptedAgent('fuzz-made'), description: 'made by fuzzing' },
  updateAgent: { description: 'fuzzed', archived: false },
  saveAgentDraft: { definition: scriptedAgent('fuzz-ghost') },
  deployAgent: { note: 'fuzz' },
  createConversation: { agentId: GHOST, title: 'fuzz' },
  startRun: { input: 'hello', version: 1 },
  agentMcp: { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} },
  openaiChatCompletions: { model: 'echo', messages: [{ role: 'user', content: 'hello' }] },
  agentChat: {
    id: 'fuzz-chat',
    messages: [{ id: 'm1', role: 'user', parts: [{ type: 'text', text: 'hello' }] }],
  },
  a2aJsonRpc: { jsonrpc: '2.0', id: 1, method: 'GetTask', params: { id: GHOST } },
  decideApproval: { decision: 'approved' },
  // Tokens and sessions of nobody: the owner's token and session must survive the fuzzing.
  revokeAllTokens: { userId: GHOST },
  endMemberSessions: { userId: GHOST },
  updateTrustPage: { content: { title: 'Fuzz', officialDomains: ['fuzz.example'] } },
  publishTrustPage: { published: true, slug: 'fuzz' },
  postTrustStatus: { body: 'Fuzz week: all good.' },
  upsertTrustPartner: { name: 'Fuzz Exchange', migrationStatus: 'in_progress' },
  createTicket: { subject: 'Fuzz', requester: 'fuzz@example.com' },
  updateTicket: { status: 'open' },
  addTicketMessage: { body: 'fuzz reply' },
  supportOpenTicket: {
    channel: 'fuzz',
    threadId: 't-1',
    requester: 'fz',
    text: 'how do I migrate?',
  },
  setSlaPolicy: { normal: 48 },
  // The platform is asked at a closed loopback port: no network, and no answer to trust.
  checkChannelToken: {
    platform: 'telegram',
    tokenSecret: 'FUZZ_SECRET',
    apiRoot: 'http://127.0.0.1:9',
  },
  putKnowledgeBase: { description: 'fuzzed' },
  putKnowledgeDocument: { name: 'fuzz.md', text: '# Fuzz\n\nHello.' },
  searchKnowledgeBase: { query: 'hello' },
  createEvalResult: {
    dataset: 'fuzz',
    version: 'draft',
    meanScore: 1,
    cases: [
      { id: '1', input: 'hi', score: 1, scores: [], output: 'hi', runId: null, durationMs: null },
    ],
  },
};
const templateOf = (route: RouteSpec): Record<string, unknown> =>
  TEMPLATES[route.operationId] ?? {};

/** Who calls: the owner's token, or the owner's session for routes only people may use. */
async function authorized(route: RouteSpec): Promise<Record<string, string>> {
  if (route.access.kind === 'person' || route.access.kind === 'operator') {
    // Logging out ends the session it is sent with (all of them, with everywhere: true):
    // give it one of its own, and start a new shared one afterwards.
    if (route.operationId === 'logOut') {
      sessionCookie = '';
      return { cookie: await newSession(), 'sec-fetch-site': 'same-origin' };
    }
    sessionCookie ||= await newSession();
    return { cookie: sessionCookie, 'sec-fetch-site': 'same-origin' };
  }
  return { authorization: `Bearer ${server.token}` };
}

async function newSession(): Promise<string> {
  const answer = await send({
    method: 'POST',
    path: '/v1/auth/local',
    headers: { 'sec-fetch-site': 'same-origin' },
  });
  expect(answer.status, answer.body).toBe(200);
  return String(answer.headers['set-cookie']?.[0]).split(';')[0]!;
}

/** The request is wrong for its route: its body fails the route's own schema. */
function bodyIsWrong(route: RouteSpec, value: unknown): boolean {
  if (!route.body) return false;
  return !route.body.safeParse(JSON.parse(JSON.stringify(value) ?? 'null')).success;
}

// ── Generators ──────────────────────────────────────────────────────────────────────────────

const latin1Char = fc
  .integer({ min: 0x20, max: 0xff })
  .filter((c) => c !== 0x7f)
  .map((c) => String.fromCharCode(c));
/** Any value Node lets a header carry (tab, printable ASCII, Latin-1). */
const headerValue = (maxLength = 200) => fc.string({ unit: latin1Char, maxLength });
const base62 = fc.constantFrom(
  ...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'.split(''),
);

const edgeStrings = fc.constantFrom(
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\u202e\u0000evil',
  '🙂'.repeat(70),
  '../../etc/passwd',
  '%00',
  "'; DROP TABLE agents; --",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4j-style probe, on purpose
  '${jndi:ldap://127.0.0.1/x}',
  '<script>alert(1)</script>',
  'x'.repeat(100_001),
  '\\',
  'null',
  '9'.repeat(400),
);
const anyString = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  edgeStrings,
);
const anyJson = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: anyString },
);

/** The template with one field replaced, dropped or added, possibly deep inside. */
function nearly(template: Record<string, unknown>, depth = 2): fc.Arbitrary<unknown> {
  const keys = Object.keys(template);
  const objectKeys = keys.filter(
    (k) => typeof template[k] === 'object' && template[k] !== null && !Array.isArray(template[k]),
  );
  const variants: fc.Arbitrary<unknown>[] = [
    fc
      .record({ k: fc.string({ maxLength: 12 }), v: anyJson })
      .map(({ k, v }) => ({ ...template, [k]: v })),
  ];
  if (keys.length > 0) {
    variants.push(
      fc
        .record({ k: fc.constantFrom(...keys), v: anyJson })
        .map(({ k, v }) => ({ ...template, [k]: v })),
      fc.constantFrom(...keys).map((k) => {
        const copy = { ...template };
        delete copy[k];
        return copy;
      }),
    );
  }
  if (depth > 0 && objectKeys.length > 0) {
    variants.push(
      fc.constantFrom(...objectKeys).chain((k) =>
        nearly(template[k] as Record<string, unknown>, depth - 1).map((v) => ({
          ...template,
          [k]: v,
        })),
      ),
    );
  }
  return fc.oneof(...variants);
}

const isJson = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

function malformedJson(template: Record<string, unknown>): fc.Arbitrary<string> {
  const text = JSON.stringify(template);
  return fc
    .oneof(
      fc.string({ maxLength: 60 }),
      fc.string({ unit: 'binary', maxLength: 60 }),
      fc.integer({ min: 0, max: Math.max(0, text.length - 1) }).map((n) => text.slice(0, n)),
      fc.string({ minLength: 1, maxLength: 10 }).map((junk) => `${text}${junk}`),
      fc.constantFrom(
        '{',
        '{"a":',
        "{'a':1}",
        '{"a":1,}',
        '[1,]',
        'NaN',
        'undefined',
        '{"a":01}',
        '{"a":"\\x41"}',
        '{"a":"\u0000"}',
        '\u0000',
        '{"a":1}{"b":2}',
        `${'['.repeat(10_000)}${']'.repeat(9_999)}`,
      ),
    )
    .filter((s) => !isJson(s) && !s.startsWith('\ufeff'));
}

/** Valid JSON the JSON parser still refuses: prototype poisoning. */
const POISONED = [
  '{"__proto__":{"isAdmin":true}}',
  '{"value":"x","__proto__":{"polluted":1}}',
  '{"a":{"__proto__":{"b":1}}}',
];

/** Has a `__proto__` key, or a `constructor` with a `prototype`, anywhere. */
/** A body with an own `__proto__` key, as JSON.parse makes it (a literal would set the prototype). */
const POISONED_VALUE: unknown = JSON.parse('{"":{"__proto__":0}}');

function poisoned(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.some(poisoned);
  for (const [k, v] of Object.entries(value)) {
    if (k === '__proto__') return true;
    if (k === 'constructor' && typeof v === 'object' && v !== null && Object.hasOwn(v, 'prototype'))
      return true;
    if (poisoned(v)) return true;
  }
  return false;
}

const UNSUPPORTED_TYPES = [
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=----fuzz',
  'application/xml',
  'application/octet-stream',
  'image/png',
  'application/problem+json',
  'application/jsonx',
  'application/json-patch+json',
  'text/html; charset=utf-8',
  'text/event-stream',
];
const JSONISH_TYPES = [
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/json;charset=latin1',
  'application/json; charset=utf-16',
  'application/json; foo=bar; baz',
  'Application/Json ; charset="utf-8"',
];

/** Path parameter values: unicode, dot segments, escapes, lengths, uuids of the wrong form. */
/** What a server makes of a raw path segment, or undefined when it is no valid escape. */
function decodedOrUndefined(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function paramValues(current: string): fc.Arbitrary<{ value: string; raw: boolean }> {
  // Lone surrogates cannot be percent-encoded: a client sends U+FFFD instead.
  const encoded = (arb: fc.Arbitrary<string>) =>
    arb.map((value) => ({ value: value.toWellFormed(), raw: false }));
  const raw = (arb: fc.Arbitrary<string>) => arb.map((value) => ({ value, raw: true }));
  const uuidish = fc
    .uuid()
    .chain((u) =>
      fc.constantFrom(
        u.toUpperCase(),
        u.replaceAll('-', ''),
        `{${u}}`,
        `urn:uuid:${u}`,
        `${u}0`,
        u.slice(1),
        u.replace(/[0-9a-f]$/, 'g'),
        ` ${u}`,
        `${u}\n`,
        current.toUpperCase(),
        `${current}/`,
        `${current}.json`,
        '00000000-0000-0000-0000-000000000000',
        'ffffffff-ffff-ffff-ffff-ffffffffffff',
      ),
    );
  return fc.oneof(
    encoded(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 })),
    encoded(fc.string({ unit: 'binary', minLength: 1, maxLength: 30 })),
    encoded(uuidish),
    encoded(edgeStrings.filter((s) => s.length < 5_000)),
    encoded(fc.integer({ min: 400, max: 1_200 }).map((n) => 'a'.repeat(n))),
    encoded(fc.constantFrom('0', '-1', '1e3', '0x10', '1.5', '99999999999', 'NaN', 'draft')),
    raw(fc.constantFrom('..', '.', '%2e%2e', '..%2f..%2fetc%2fpasswd', '%2F', '%252F', '%00')),
    raw(fc.constantFrom('%', '%G1', '%E0%A4', '%C0%AF', '%ED%A0%80', 'a%2', '%%32%65')),
    raw(
      fc
        .array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 12 })
        .map((bytes) =>
          bytes.map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join(''),
        ),
    ),
  );
}

const dateish = fc.oneof(
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom(
    '2024-02-30T00:00:00Z',
    '2024-13-01T00:00:00Z',
    '2024-01-01T24:00:00Z',
    '2024-01-01T23:59:60Z',
    '0000-01-01T00:00:00Z',
    '9999-12-31T23:59:59.999+14:00',
    '2024-01-01T00:00:00+99:99',
    '2024-01-01',
    'yesterday',
  ),
);
const queryValue = fc.oneof(
  anyString.filter((s) => s.length < 2_000),
  fc.integer().map(String),
  fc.double().map(String),
  dateish,
  fc.constantFrom('true', 'false', '1', '0', 'yes', 'on', '', 'succeeded', GHOST, '201'),
);

function queryKeys(route: RouteSpec): string[] {
  const shape = (route.query as unknown as { shape?: Record<string, unknown> } | undefined)?.shape;
  return shape ? Object.keys(shape) : [];
}

// ── Text the database cannot store ──────────────────────────────────────────────────────────

/** A string with a NUL or an unpaired surrogate somewhere (start, middle, end). */
const unstorableString = fc
  .tuple(
    fc.string({ maxLength: 20 }),
    fc.constantFrom('\u0000', '\ud800', '\udfff', '\ud83d', 'a\u0000\u0000', '\udc00\ud800'),
    fc.string({ maxLength: 20 }),
  )
  .map(([before, bad, after]) => `${before}${bad}${after}`);

/** The templates whose text fields are poisoned: each route's, and deeper shapes of some. */
function textTemplates(route: RouteSpec): Record<string, unknown>[] {
  const more: Record<string, Record<string, unknown>[]> = {
    startRun: [
      { input: [{ type: 'text', text: 'hi' }], userId: 'end-user-1' },
      { input: 'again', conversationId: real.conversationId },
    ],
    agentMcp: [
      {
        jsonrpc: '2.0',
        id: 'call-1',
        method: 'tools/call',
        params: {
          name: 'run_echo',
          arguments: { input: 'hi', conversationId: real.conversationId },
        },
      },
    ],
    openaiChatCompletions: [
      {
        model: 'echo@1',
        stream: true,
        stream_options: { include_usage: true },
        user: 'end-user-1',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: [{ type: 'text', text: 'hi' }] },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'call_1', type: 'function', function: { name: 'look', arguments: '{}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'call_1', content: 'found' },
        ],
        tools: [{ type: 'function', function: { name: 'look', description: 'Looks' } }],
      },
    ],
  };
  return [templateOf(route), ...(more[route.operationId] ?? [])];
}

type Path = (string | number)[];

/** The paths of every string in a template. */
function stringLeaves(value: unknown, path: Path = []): Path[] {
  if (typeof value === 'string') return [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringLeaves(v, [...path, i]));
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => stringLeaves(v, [...path, k]));
  return [];
}

/** A deep copy of `value` with what is at `path` replaced by `leaf`. */
function withLeaf(value: unknown, path: Path, leaf: unknown): unknown {
  if (path.length === 0) return leaf;
  const [head, ...rest] = path;
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<
    string | number,
    unknown
  >;
  copy[head!] = withLeaf(copy[head!], rest, leaf);
  return copy;
}

/** A deep copy with an extra key `text` beside the string at `path` (keys are text too). */
function withKey(value: unknown, path: Path, text: string): unknown {
  const parent = path.slice(0, -1);
  const holder = parent.reduce<unknown>(
    (v, k) => (v as Record<string | number, unknown>)[k],
    value,
  );
  if (Array.isArray(holder)) return withLeaf(value, path, text);
  const replaced = { ...(holder as object), [text]: 'x' };
  return parent.length === 0 ? replaced : withLeaf(value, parent, replaced);
}

// ── The server and its fixtures ─────────────────────────────────────────────────────────────

beforeAll(async () => {
  server = await startTestServer({
    // Garbage bearer tokens count as failed checks: do not let the limiter block 127.0.0.1.
    tuning: { authFailureLimit: 1_000_000_000 },
  });
  base = new URL(server.url);
  const call = client(server.url, server.token);
  const ws = server.workspaceId;
  const created = await call('POST', `/v1/workspaces/${ws}/agents`, {
    definition: scriptedAgent('echo'),
    deploy: true,
  });
  expect(created.status, await created.clone().text()).toBe(201);
  const secret = await call('PUT', `/v1/workspaces/${ws}/secrets/FUZZ_SECRET`, { value: 'v' });
  expect(secret.status).toBe(201);
  const run = await call(
    'POST',
    `/v1/workspaces/${ws}/agents/echo/runs`,
    { input: 'hello' },
    { accept: 'application/json' },
  );
  expect(run.status, await run.clone().text()).toBe(200);
  const result = (await run.json()) as { run: { id: string }; conversationId: string };
  // Trust: a published page and a ticket, so their GET routes have something to answer.
  const page = await call('PUT', `/v1/workspaces/${ws}/trust/publication`, {
    published: true,
    slug: 'fuzz',
  });
  expect(page.status, await page.clone().text()).toBe(200);
  const ticket = await call('POST', `/v1/workspaces/${ws}/support/tickets`, {
    subject: 'fuzz',
    requester: 'fz',
  });
  expect(ticket.status, await ticket.clone().text()).toBe(201);
  const ticketId = ((await ticket.json()) as { id: string }).id;
  // A knowledge base with a document, so its GET routes have something to answer.
  const knowledgeBase = await call('PUT', `/v1/workspaces/${ws}/knowledge-bases/fuzz-base`, {});
  expect(knowledgeBase.status, await knowledgeBase.clone().text()).toBeLessThan(300);
  const document = await call('PUT', `/v1/workspaces/${ws}/knowledge-bases/fuzz-base/documents`, {
    name: 'fuzz.md',
    text: '# Fuzz\n\nHello.',
  });
  expect(document.status, await document.clone().text()).toBeLessThan(300);
  Object.assign(real, {
    workspaceId: ws,
    agent: 'echo',
    model: 'echo',
    chatId: 'fuzz-chat',
    version: '1',
    runId: result.run.id,
    conversationId: result.conversationId,
    name: 'FUZZ_SECRET',
    // Members, invitations, tokens and signals: ids of nothing, never the owner or its token.
    userId: GHOST,
    invitationId: GHOST,
    tokenId: GHOST,
    signalId: GHOST,
    callId: 'call_fuzz',
    workspaceSlug: 'fuzz',
    partnerId: GHOST,
    ticketId,
    // Knowledge, channels: a base the fuzzing may fill, documents and agents of nothing.
    base: 'fuzz-base',
    document: GHOST,
    platform: 'telegram',
    agentId: GHOST,
  });
  sessionCookie = await newSession();
}, 60_000);

afterAll(async () => {
  agent.destroy();
  await server?.close();
});

// ── The properties ──────────────────────────────────────────────────────────────────────────

describe('fuzz: every route', () => {
  it('has fuzz fixtures: parameter values, and a valid template for each body schema', async () => {
    expect(ROUTES.length).toBeGreaterThan(40);
    for (const route of ROUTES) {
      const names = paramNames(route);
      expect(names.length > 0, `${key(route)} declares params`).toBe(route.params !== undefined);
      const params = paramsOf(route);
      if (route.params)
        expect(route.params.safeParse(params).success, `${key(route)} fixture params`).toBe(true);
      if (route.body) {
        expect(TEMPLATES[route.operationId], `${key(route)} has a template`).toBeDefined();
        expect(route.body.safeParse(templateOf(route)).success, `${key(route)} template`).toBe(
          true,
        );
      }
    }
    // The fixtures answer: the oracle is not trivially satisfied by 404s everywhere.
    // A run's event stream, and a chat's active stream (204: none runs), answer otherwise.
    for (const route of ROUTES.filter(
      (r) =>
        r.method === 'GET' &&
        r.url !== '/v1/runs/:runId/events' &&
        r.operationId !== 'resumeAgentChat',
    )) {
      const answer = await send({
        method: 'GET',
        path: pathOf(route),
        headers: await authorized(route),
      });
      expect(answer.status, `${key(route)}: ${answer.body.slice(0, 200)}`).toBe(200);
    }
  });

  it('answers arbitrary and nearly valid JSON bodies with 2xx or problem+json 4xx', async () => {
    for (const route of bodyRoutes) {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(anyJson, nearly(templateOf(route))),
          fc.constantFrom('application/json', 'application/json; charset=utf-8'),
          // One in five from a stranger: refused before validation, so a 400 tells them nothing.
          fc.integer({ min: 1, max: 5 }).map((n) => n === 1),
          async (value, type, anonymous) => {
            const answer = await send({
              method: route.method,
              path: pathOf(route),
              headers: {
                ...(anonymous ? {} : await authorized(route)),
                'content-type': type,
              },
              body: JSON.stringify(value) ?? 'null',
            });
            const what = `${anonymous ? 'anonymous ' : ''}${key(route)} body ${JSON.stringify(value)?.slice(0, 300)}`;
            // The JSON parser refuses prototype poisoning, before anything else looks. A route
            // that takes its body as sent (a platform's webhook: its signature covers the exact
            // bytes) parses nothing there: its connector checks the channel and the signature
            // first, like any other body.
            if (poisoned(value) && !route.rawBody)
              check(what, answer, { code: 'request.malformed_json' });
            else if (anonymous && route.access.kind !== 'public')
              check(what, answer, { code: 'auth.required' });
            else check(what, answer, { wrong: bodyIsWrong(route, value) });
          },
        ),
        // Always one poisoned body from a stranger (a random one is rare: CI found the webhook
        // case once in many runs).
        { ...runs(route.body ? 30 : 8), examples: [[POISONED_VALUE, 'application/json', true]] },
      );
      await stillUp(key(route));
    }
  });

  it('answers malformed JSON with 400 request.malformed_json', async () => {
    for (const route of jsonBodyRoutes) {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(malformedJson(templateOf(route)), fc.constantFrom(...POISONED)),
          async (text) => {
            const answer = await send({
              method: route.method,
              path: pathOf(route),
              headers: { ...(await authorized(route)), 'content-type': 'application/json' },
              body: text,
            });
            check(`${key(route)} malformed ${JSON.stringify(text.slice(0, 200))}`, answer, {
              code: 'request.malformed_json',
            });
          },
        ),
        runs(8),
      );
      await stillUp(key(route));
    }
  });

  it('answers other content types with 415, text with 400 where a body is required', async () => {
    for (const route of jsonBodyRoutes) {
      const json = JSON.stringify(templateOf(route));
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.constantFrom(...UNSUPPORTED_TYPES, ...JSONISH_TYPES, 'text/plain', '(none)'),
            headerValue(60),
          ),
          fc.oneof(fc.constant(json), fc.string({ minLength: 1, maxLength: 40 })),
          async (type, body) => {
            const answer = await send({
              method: route.method,
              path: pathOf(route),
              headers: {
                ...(await authorized(route)),
                ...(type === '(none)' ? {} : { 'content-type': type }),
              },
              body,
            });
            const what = `${key(route)} content-type ${JSON.stringify(type)} body ${body.slice(0, 100)}`;
            if (UNSUPPORTED_TYPES.includes(type) || type === '(none)')
              check(what, answer, { code: 'request.unsupported_media_type' });
            else if (type === 'text/plain')
              // Fastify parses text/plain as a string: never an object a body schema accepts.
              check(what, answer, { wrong: route.body !== undefined });
            else if (JSONISH_TYPES.includes(type))
              check(what, answer, { wrong: body !== json && route.body !== undefined });
            else check(what, answer, { wrong: true });
          },
        ),
        runs(8),
      );
      await stillUp(key(route));
    }
  });

  it('answers text the database cannot store in any string field with 400 request.invalid_text', async () => {
    // Issue #30: a NUL or an unpaired surrogate in a field the schema accepts reached the
    // store (and, in a run, failed its writes after the stream had started).
    for (const route of bodyRoutes) {
      for (const template of textTemplates(route)) {
        const leaves = stringLeaves(template);
        if (leaves.length === 0) continue;
        await fc.assert(
          fc.asyncProperty(
            fc.constantFrom(...leaves),
            unstorableString,
            fc.boolean(),
            async (path, text, asKey) => {
              const value = asKey ? withKey(template, path, text) : withLeaf(template, path, text);
              const answer = await send({
                method: route.method,
                path: pathOf(route),
                headers: { ...(await authorized(route)), 'content-type': 'application/json' },
                body: JSON.stringify(value),
              });
              check(`${key(route)} ${path.join('.')} = ${JSON.stringify(text)}`, answer, {
                code: 'request.invalid_text',
              });
            },
          ),
          runs(Math.min(12, 3 * leaves.length)),
        );
      }
      await stillUp(key(route));
    }
  });

  it('answers JSON nested 100,000 levels deep with 4xx on every body route', async () => {
    // Issue #30: 100,000 levels of `[` on the MCP endpoint answered 500 (schema validation
    // recursed until the stack overflowed).
    for (const route of bodyRoutes) {
      for (const [open, close] of [
        ['[', ']'],
        ['{"a":', '}'],
      ] as const) {
        const deep = `${open.repeat(100_000)}1${close.repeat(100_000)}`;
        const nested = JSON.stringify(templateOf(route)).replace(/}$/, `,"deep":${deep}}`);
        for (const body of [deep, nested]) {
          const answer = await send({
            method: route.method,
            path: pathOf(route),
            headers: { ...(await authorized(route)), 'content-type': 'application/json' },
            body,
          });
          check(`${key(route)} nested ${open} ${body.length} bytes`, answer, { wrong: true });
        }
      }
    }
    await stillUp();
  });

  it("answers bodies over the route's limit with 413 request.too_large", async () => {
    for (const route of bodyRoutes) {
      const limit = route.bodyLimit ?? DEFAULT_BODY_LIMIT;
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 4_096 }),
          fc.boolean(),
          async (over, chunked) => {
            const prefix = '{"value":"';
            const body = `${prefix}${'x'.repeat(limit + over - prefix.length - 2)}"}`;
            const answer = await send({
              method: route.method,
              path: pathOf(route),
              headers: { ...(await authorized(route)), 'content-type': 'application/json' },
              body,
              chunked,
            });
            check(`${key(route)} ${body.length}-byte body, chunked ${chunked}`, answer, {
              code: 'request.too_large',
            });
          },
        ),
        runs(2),
      );
      await stillUp(key(route));
    }
  });

  it('answers odd headers: garbage credentials are refused, the rest never breaks a route', async () => {
    const token = server.token;
    const authorization = fc.oneof(
      headerValue(),
      headerValue().map((s) => `Bearer ${s}`),
      fc.string({ unit: base62, minLength: 30, maxLength: 40 }).map((s) => `Bearer prl_${s}`),
      fc.constantFrom(
        '',
        'Bearer',
        'Bearer ',
        `Basic ${Buffer.from('owner:password').toString('base64')}`,
        `Bearer ${token}x`,
        `Bearer ${token.slice(0, -1)}`,
        `Bearer ${token.toUpperCase()}`,
        `Bearer ${token} ${token}`,
        `Token ${token}`,
        `bearer\t${token}\t`,
        `BEARER   ${token}`,
        `Bearer ${token}`,
      ),
    );
    const cookie = fc.oneof(
      headerValue(),
      headerValue().map((s) => `parley_session=${s}`),
      fc.constantFrom(
        'parley_session=',
        'parley_session=%E0%A4%A',
        'parley_session="unterminated',
        'parley_session=00000000-0000-0000-0000-000000000000.secret',
        `parley_session=${GHOST}.${'A'.repeat(43)}`,
        '__Host-parley_session=x; parley_session=y',
        ';;;=;=',
        `parley_session=${'x'.repeat(4_000)}`,
      ),
    );
    const lastEventId = fc.oneof(
      headerValue(30),
      fc.constantFrom('0', '1', '-1', '1e3', '0x10', ' 1', '1 ', '999999999', '1000000000', '3.0'),
    );
    const accept = fc.oneof(
      headerValue(60),
      fc.constantFrom(
        'application/json',
        'text/event-stream',
        'application/json, text/event-stream',
        'text/event-stream;q=0, application/json',
        '*/*',
        'text/html',
        'application/xml',
        'application/problem+json',
        'image/*;q=0.8',
      ),
    );
    const framing = new Set([
      'content-length',
      'transfer-encoding',
      'host',
      'expect',
      'connection',
      'upgrade',
      'te',
      'trailer',
      'keep-alive',
      'authorization',
      'cookie',
      'content-type',
    ]);
    const headers = fc.record(
      {
        authorization,
        cookie,
        'last-event-id': lastEventId,
        accept,
        origin: fc.oneof(headerValue(40), fc.constantFrom('null', 'https://evil.example')),
        'sec-fetch-site': fc.constantFrom('cross-site', 'same-site', 'same-origin', 'none', '?'),
        'user-agent': fc.oneof(headerValue(), fc.constant('u'.repeat(8_000))),
        'x-forwarded-for': headerValue(40),
        extra: fc.tuple(
          fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/).filter((n) => !framing.has(n)),
          headerValue(),
        ),
      },
      { requiredKeys: [] },
    );
    const validBearer = /^Bearer[ \t]+([!-~]+)[ \t]*$/i;
    for (const route of ROUTES) {
      await fc.assert(
        fc.asyncProperty(headers, async (fuzzed) => {
          const { extra, ...named } = fuzzed;
          const sent: Record<string, string> = { ...named };
          if (extra) sent[extra[0]] = extra[1];
          const body = hasBody(route) ? JSON.stringify(templateOf(route)) : undefined;
          if (body !== undefined) sent['content-type'] = 'application/json';
          const answer = await send({
            method: route.method,
            path: pathOf(route),
            headers: sent,
            body,
          });
          const what = `${key(route)} headers ${JSON.stringify(sent).slice(0, 600)}`;
          if (sent.authorization !== undefined) {
            if (validBearer.exec(sent.authorization)?.[1] !== token)
              return check(what, answer, { code: 'auth.invalid_token' });
            if (route.operationId === 'streamRunEvents' && sent['last-event-id'] !== undefined)
              return check(what, answer, {
                // HTTP drops the whitespace around a header value (OWS): " 1" arrives as "1".
                wrong: !/^[ \t]*\d{1,9}[ \t]*$/.test(sent['last-event-id']),
              });
            return check(what, answer);
          }
          // No bearer token, and no valid session cookie: anonymous.
          if (route.access.kind !== 'public') return check(what, answer, { code: 'auth.required' });
          check(what, answer);
        }),
        runs(12),
      );
      await stillUp(key(route));
    }
  });

  it('answers odd path parameters with 4xx (unicode, dot segments, escapes, lengths, uuids)', async () => {
    for (const route of ROUTES.filter((r) => paramNames(r).length > 0)) {
      for (const name of paramNames(route)) {
        const current = paramsOf(route)[name]!;
        await fc.assert(
          fc.asyncProperty(paramValues(current), async ({ value, raw }) => {
            const path = pathOf(route, { [name]: value }, raw);
            const body = hasBody(route) ? JSON.stringify(templateOf(route)) : undefined;
            const answer = await send({
              method: route.method,
              path,
              headers: {
                ...(await authorized(route)),
                ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
              },
              body,
            });
            // A raw value reaches the route percent-decoded: %41 is the name "A", as valid as
            // "A" itself; one that does not decode (or decodes to an invalid value) is wrong.
            const received = raw ? decodedOrUndefined(value) : value;
            const fuzzedParams = { ...paramsOf(route), [name]: received };
            check(
              `${key(route)} :${name} = ${JSON.stringify(value).slice(0, 200)} → ${path.slice(0, 300)}`,
              answer,
              {
                wrong: received === undefined || !route.params!.safeParse(fuzzedParams).success,
              },
            );
          }),
          runs(10),
        );
      }
      await stillUp(key(route));
    }
  });

  it('answers unescaped unicode bytes in the path with 400 (Node refuses them)', async () => {
    for (const route of ROUTES.filter((r) => paramNames(r).length > 0)) {
      const name = paramNames(route).at(-1)!;
      await fc.assert(
        fc.asyncProperty(
          fc
            .string({ unit: 'grapheme', minLength: 1, maxLength: 20 })
            .filter((s) => /[^\x20-\x7e]/.test(s) && !/[\s?#/%]/.test(s)),
          async (value) => {
            const answer = await sendRaw(route.method, pathOf(route, { [name]: value }, true), {
              ...(await authorized(route)),
              ...(hasBody(route) ? { 'content-length': '0' } : {}),
            });
            const what = `raw ${key(route)} :${name} = ${JSON.stringify(value)}`;
            check(what, answer, { wrong: true });
            expect(answer.status, what).toBe(400);
          },
        ),
        runs(3),
      );
    }
    await stillUp();
  });

  it('answers odd query strings: what the query schema refuses is 400 request.invalid, a NUL 400 request.invalid_text', async () => {
    for (const route of ROUTES) {
      const known = queryKeys(route);
      const entry = fc.tuple(
        known.length > 0
          ? fc.oneof(fc.constantFrom(...known), fc.string({ minLength: 1, maxLength: 10 }))
          : fc.string({ minLength: 1, maxLength: 10 }),
        queryValue,
      );
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(entry, { selector: ([k]) => k, maxLength: 4 }),
          async (entries) => {
            const query = new URLSearchParams(entries).toString();
            const body = hasBody(route) ? JSON.stringify(templateOf(route)) : undefined;
            const answer = await send({
              method: route.method,
              path: `${pathOf(route)}?${query}`,
              headers: {
                ...(await authorized(route)),
                ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
              },
              body,
            });
            // A NUL anywhere in the query is refused before its schema (body-check.ts); an
            // unpaired surrogate cannot be sent (URLSearchParams encodes U+FFFD instead).
            const unstorable = entries.some(([k, v]) => `${k}${v}`.includes('\u0000'));
            const wrong =
              unstorable ||
              (route.query ? !route.query.safeParse(Object.fromEntries(entries)).success : false);
            check(`${key(route)} ?${query.slice(0, 300)}`, answer, {
              wrong,
              ...(unstorable
                ? { code: 'request.invalid_text' }
                : wrong
                  ? { code: 'request.invalid' }
                  : {}),
            });
          },
        ),
        runs(route.query ? 25 : 3),
      );
    }
    await stillUp();
    // Escapes that do not decode: the query parser keeps them as they are.
    for (const route of ROUTES.filter((r) => r.query)) {
      for (const query of [
        '%',
        'limit=%ZZ',
        'before=%E0%A4%A',
        '=&&=',
        'limit=1&limit=2',
        'a[b]=c',
      ]) {
        const answer = await send({
          method: route.method,
          path: `${pathOf(route)}?${query}`,
          headers: await authorized(route),
        });
        check(`${key(route)} ?${query}`, answer);
      }
    }
    await stillUp();
  });

  it('answers odd methods on every path with 404 route.not_found', async () => {
    const methods = ['OPTIONS', 'TRACE', 'PROPFIND', 'SEARCH', 'PURGE', 'LINK', 'MKCOL'];
    for (const route of ROUTES) {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...methods), async (method) => {
          const answer = await send({
            method,
            path: pathOf(route),
            headers: await authorized(route),
          });
          check(`${method} ${route.url}`, answer, { code: 'route.not_found' });
        }),
        runs(2),
      );
    }
    await stillUp();
  });
});

describe('fuzz: requests refused before the app sees them (router, HTTP parser)', () => {
  // Fastify's router and Node's HTTP parser refuse these before any route runs; app.ts sends
  // them through the same problem+json format (frameworkErrors, clientErrorHandler).
  const cases = [
    [
      'a malformed percent escape in a path parameter',
      () =>
        send({
          method: 'GET',
          path: `/v1/workspaces/${real.workspaceId}/agents/%E0%A4%A`,
          headers: { authorization: `Bearer ${server.token}` },
        }),
    ],
    [
      'a path parameter over maxParamLength',
      () =>
        send({
          method: 'GET',
          path: `/v1/workspaces/${'a'.repeat(600)}`,
          headers: { authorization: `Bearer ${server.token}` },
        }),
    ],
    [
      'raw non-ASCII bytes in the path',
      () =>
        sendRaw('GET', `/v1/workspaces/${real.workspaceId}/agents/échø`, {
          authorization: `Bearer ${server.token}`,
        }),
    ],
  ] as const;
  for (const [what, request] of cases) {
    it(`answers ${what} with problem+json`, async () => {
      check(what, await request(), { wrong: true });
    });
  }
});
