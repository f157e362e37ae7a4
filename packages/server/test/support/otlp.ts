import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/*
 * A local OTLP/HTTP trace receiver (the OpenTelemetry protocol's `POST /v1/traces`), for both
 * encodings the server may send: JSON, and protobuf, decoded here from the published
 * opentelemetry-proto field numbers (collector/trace/v1/trace_service.proto, trace/v1/
 * trace.proto, common/v1/common.proto) with a reader of the protobuf wire format, so that
 * what is checked is the bytes as a collector gets them, not the SDK's own objects.
 */

export type OtlpAttribute = string | number | boolean | (string | number | boolean)[];

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Record<string, OtlpAttribute>;
  /** 0 unset, 1 ok, 2 error. */
  statusCode: number;
}

export interface OtlpReceiver {
  url: string;
  /** Every span received so far. */
  spans(): OtlpSpan[];
  /** Every request body as received (to search for text that must not be there). */
  raw(): Buffer[];
  contentTypes: Set<string>;
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const bodies: Buffer[] = [];
  const spans: OtlpSpan[] = [];
  const contentTypes = new Set<string>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const type = req.headers['content-type'] ?? '';
      if (req.url === '/v1/traces') {
        bodies.push(body);
        contentTypes.add(type);
        spans.push(...(type.includes('json') ? fromJson(body) : fromProtobuf(body)));
      }
      if (type.includes('json'))
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans: () => [...spans],
    raw: () => [...bodies],
    contentTypes,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ── JSON (OTLP/HTTP JSON: ids in hex, 64-bit integers as strings) ─────────────────────────

interface JsonValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: JsonValue[] };
}

function jsonValue(value: JsonValue): OtlpAttribute {
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(jsonValue) as OtlpAttribute;
  if (value.intValue !== undefined) return Number(value.intValue);
  return value.stringValue ?? value.doubleValue ?? value.boolValue ?? '';
}

function fromJson(body: Buffer): OtlpSpan[] {
  const request = JSON.parse(body.toString()) as {
    resourceSpans?: { scopeSpans?: { spans?: Record<string, unknown>[] }[] }[];
  };
  return (request.resourceSpans ?? []).flatMap((r) =>
    (r.scopeSpans ?? []).flatMap((s) =>
      (s.spans ?? []).map((span) => ({
        traceId: span.traceId as string,
        spanId: span.spanId as string,
        parentSpanId: (span.parentSpanId as string | undefined) ?? '',
        name: span.name as string,
        kind: span.kind as number,
        startTimeUnixNano: BigInt(span.startTimeUnixNano as string),
        endTimeUnixNano: BigInt(span.endTimeUnixNano as string),
        attributes: Object.fromEntries(
          ((span.attributes ?? []) as { key: string; value: JsonValue }[]).map((a) => [
            a.key,
            jsonValue(a.value),
          ]),
        ),
        statusCode: (span.status as { code?: number } | undefined)?.code ?? 0,
      })),
    ),
  );
}

// ── protobuf wire format ──────────────────────────────────────────────────────────────────

type Field = { number: number; wire: number; value: bigint | Buffer };

/** The fields of one message, in order (a field may repeat). */
function fields(buffer: Buffer): Field[] {
  const out: Field[] = [];
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = buffer[at++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (at < buffer.length) {
    const key = Number(varint());
    const number = key >>> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ number, wire, value: varint() });
    else if (wire === 1) {
      out.push({ number, wire, value: buffer.subarray(at, at + 8) });
      at += 8;
    } else if (wire === 2) {
      const length = Number(varint());
      out.push({ number, wire, value: buffer.subarray(at, at + length) });
      at += length;
    } else if (wire === 5) {
      out.push({ number, wire, value: buffer.subarray(at, at + 4) });
      at += 4;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
  return out;
}

const all = (message: Buffer, number: number) =>
  fields(message)
    .filter((f) => f.number === number)
    .map((f) => f.value);
const one = (message: Buffer, number: number) => all(message, number)[0];

function anyValue(message: Buffer): OtlpAttribute {
  for (const field of fields(message)) {
    const value = field.value;
    switch (field.number) {
      case 1:
        return (value as Buffer).toString('utf8');
      case 2:
        return value === 1n;
      case 3:
        return Number(BigInt.asIntN(64, value as bigint));
      case 4:
        return (value as Buffer).readDoubleLE(0);
      case 5:
        return all(value as Buffer, 1).map((v) => anyValue(v as Buffer)) as OtlpAttribute;
    }
  }
  return '';
}

function fromProtobuf(body: Buffer): OtlpSpan[] {
  const spans: OtlpSpan[] = [];
  for (const resourceSpans of all(body, 1) as Buffer[])
    for (const scopeSpans of all(resourceSpans, 2) as Buffer[])
      for (const span of all(scopeSpans, 2) as Buffer[]) {
        const hex = (n: number) =>
          ((one(span, n) as Buffer | undefined) ?? Buffer.alloc(0)).toString('hex');
        const time = (n: number) => (one(span, n) as Buffer).readBigUInt64LE(0);
        const status = one(span, 15) as Buffer | undefined;
        spans.push({
          traceId: hex(1),
          spanId: hex(2),
          parentSpanId: hex(4),
          name: (one(span, 5) as Buffer).toString('utf8'),
          kind: Number((one(span, 6) as bigint | undefined) ?? 0n),
          startTimeUnixNano: time(7),
          endTimeUnixNano: time(8),
          attributes: Object.fromEntries(
            (all(span, 9) as Buffer[]).map((kv) => [
              (one(kv, 1) as Buffer).toString('utf8'),
              anyValue(one(kv, 2) as Buffer),
            ]),
          ),
          statusCode: status ? Number((one(status, 3) as bigint | undefined) ?? 0n) : 0,
        });
      }
  return spans;
}
