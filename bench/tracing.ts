import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { childContext, formatTraceparent, parseTraceparent } from '@parley/server';
import { fmt, percentiles, type ServerProcess, startServer, table, timeStream } from './lib.ts';
import type { Context, ScenarioResult } from './scenarios.ts';
import { deployBenchAgent, isParleyText, parleyRun, standInBase } from './setup.ts';

/*
 * What tracing costs a run (issue #25: "with no exporter the tracing cost on the hot path is
 * nil, measured"). Three servers side by side: no exporter (the default), exporting every
 * run's spans over OTLP/HTTP to a local receiver, and the same with content capture. Runs
 * take turns across the three in rotating order (load and warm-up fall on all alike); each
 * reports TTFT and the server's CPU per run (user + system, from /proc), beside the server
 * with no exporter. Every run carries a traceparent, as a traced caller would send.
 */

const SHAPE = { ttftMs: 20, chunks: 40, gapMs: 0 };
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

/** The process's CPU time so far (ms): utime + stime from /proc/<pid>/stat. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // After the command: state is field 3, utime 14 and stime 15 (1-based) → indices 11, 12.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ is 100 on Linux
}

/**
 * What a request and its run do for tracing when no exporter is set, alone: parse the
 * caller's traceparent, choose the request's and the run's ids, format the run's outgoing
 * traceparent. Microseconds per request and run.
 */
function contextWorkUs(iterations: number): number {
  const t0 = performance.now();
  let sink = 0;
  for (let i = 0; i < iterations; i++) {
    const incoming = parseTraceparent(TRACEPARENT);
    const run = childContext(incoming);
    sink += formatTraceparent(run).length;
  }
  if (sink === 0) throw new Error('unreachable');
  return ((performance.now() - t0) * 1000) / iterations;
}

export async function tracingCost(ctx: Context): Promise<ScenarioResult> {
  let spans = 0;
  const receiver = createServer((req, res) => {
    req.on('data', () => {});
    req.on('end', () => {
      spans++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  const otlp = { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_BSP_SCHEDULE_DELAY: '200' };
  const variants: { name: string; env: Record<string, string> }[] = [
    { name: 'no exporter (default)', env: {} },
    { name: 'OTLP/HTTP protobuf export', env: otlp },
    {
      name: 'export + PARLEY_OTEL_CAPTURE_CONTENT=1',
      env: { ...otlp, PARLEY_OTEL_CAPTURE_CONTENT: '1' },
    },
  ];
  const servers: ServerProcess[] = [];
  try {
    for (const variant of variants) servers.push(await startServer({ env: variant.env }));
    const base = standInBase(ctx.standIn, SHAPE);
    for (const server of servers) await deployBenchAgent(server, 'bench-traced', base);
    const once = async (server: ServerProcess) => {
      const t0 = performance.now();
      const response = await parleyRun(server, 'bench-traced', { traceparent: TRACEPARENT });
      return (await timeStream(response, t0, isParleyText)).firstMs;
    };
    for (let i = 0; i < 10; i++) for (const server of servers) await once(server);
    const n = ctx.quick ? 60 : 300;
    const ttfts = servers.map(() => [] as number[]);
    const cpuBefore = servers.map((s) => cpuMs(s.child.pid!));
    for (let i = 0; i < n; i++)
      for (let k = 0; k < servers.length; k++) {
        const index = (i + k) % servers.length;
        ttfts[index]!.push(await once(servers[index]!));
      }
    const cpuPerRun = servers.map((s, index) => (cpuMs(s.child.pid!) - cpuBefore[index]!) / n);
    const ttft = ttfts.map(percentiles);
    const contextUs = contextWorkUs(100_000);
    const rows = variants.map((variant, index) => [
      variant.name,
      `${fmt(ttft[index]!.p50)} / ${fmt(ttft[index]!.p99)}`,
      index === 0 ? '—' : `${fmt(ttft[index]!.p50 - ttft[0]!.p50)}`,
      fmt(cpuPerRun[index]!),
      `${fmt(cpuPerRun[index]! / cpuPerRun[0]!)}×`,
    ]);
    return {
      id: 'tracing',
      title: `What tracing costs a run: TTFT and server CPU per run, one run at a time in turns (stand-in TTFT ${SHAPE.ttftMs} ms, ${SHAPE.chunks} chunks; ${n} runs each; ${spans} OTLP exports received)`,
      markdown: `${table(
        [
          'server',
          'TTFT p50 / p99 ms',
          'added TTFT p50 ms',
          'CPU ms per run',
          'CPU vs no exporter',
        ],
        rows,
      )}\n\nWithout an exporter, what tracing adds to a request and its run is choosing and formatting ids: ${fmt(contextUs, 2)} µs (100,000 times, alone); no span is made and nothing of the SDK is loaded.`,
      data: {
        contextWorkUs: contextUs,
        ...Object.fromEntries(
          variants.map((variant, index) => [
            variant.name,
            { ttft: ttft[index], cpuMsPerRun: cpuPerRun[index] },
          ]),
        ),
      },
    };
  } finally {
    for (const server of servers) {
      await server.stop();
      await rm(server.dataDir, { recursive: true, force: true });
    }
    receiver.closeAllConnections();
    await new Promise((resolve) => receiver.close(resolve));
  }
}
