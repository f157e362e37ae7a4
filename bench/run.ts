/**
 * Parley's benchmarks: `npm run bench` (full, several minutes) or `npm run bench -- --quick`
 * (under two minutes). Every number that matters is printed next to a baseline measured in
 * the same run (the provider stand-in called directly), so ratios hold on any machine.
 * Results: bench/results/<date>.json and .md (and latest.*); summarised in docs/performance.md.
 * Benchmarks report; they never fail a build.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { burst } from './burst.ts';
import { clientsTtft } from './clients.ts';
import { CLUSTER_PARTS, clusterScenarios } from './cluster.ts';
import { knowledgeBench, knowledgeTtft } from './knowledge.ts';
import { ROOT, startServer } from './lib.ts';
import {
  type Context,
  eventLog,
  interChunk,
  memory,
  postgresServer,
  type ScenarioResult,
  startup,
  throughput,
  ttft,
  ttftOpenStreams,
} from './scenarios.ts';
import { startStandInProcess } from './setup.ts';
import { tracingCost } from './tracing.ts';

const quick = process.argv.includes('--quick');
const only = process.argv
  .find((a) => a.startsWith('--only='))
  ?.slice(7)
  .split(',');
const want = (id: string) => !only || only.some((o) => id.startsWith(o));
/** `--server-root=<checkout>`: run another checkout's server (a "before" for the burst). */
const serverRoot = process.argv.find((a) => a.startsWith('--server-root='))?.slice(14);

const machine = {
  cpus: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
  memoryGb: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
};

const results: ScenarioResult[] = [];
const report = (result: ScenarioResult) => {
  results.push(result);
  process.stdout.write(`\n## ${result.title}\n\n${result.markdown}\n`);
};

const started = performance.now();
process.stdout.write(
  `Parley benchmarks (${quick ? 'quick' : 'full'}) on ${machine.cpus}, ${machine.memoryGb} GB, Node ${machine.node}\n`,
);
const standIn = await startStandInProcess();
const ctx: Context = { quick, standIn: standIn.url };
try {
  if (want('ttft') || want('inter') || want('throughput')) {
    const server = await startServer();
    try {
      if (want('ttft')) report(await ttft(ctx, server));
      if (want('ttft')) report(await ttftOpenStreams(ctx, server));
      if (want('inter')) report(await interChunk(ctx, server));
      if (want('throughput')) report(await throughput(ctx, server, 'PGlite'));
    } finally {
      await server.stop();
      await rm(server.dataDir, { recursive: true, force: true });
    }
  }
  if (want('throughput') || want('ttft')) {
    const pg = await postgresServer();
    try {
      if (!quick && want('ttft')) report(await ttft(ctx, pg.server, 'PostgreSQL'));
      if (want('ttft')) report(await ttftOpenStreams(ctx, pg.server, 'PostgreSQL'));
      if (want('throughput')) report(await throughput(ctx, pg.server, 'PostgreSQL'));
    } finally {
      await pg.stop();
    }
  }
  if (want('clients')) {
    const server = await startServer();
    try {
      report(await clientsTtft(ctx, server));
    } finally {
      await server.stop();
      await rm(server.dataDir, { recursive: true, force: true });
    }
  }
  if (want('memory')) {
    report(await memory(ctx, 'PGlite'));
    report(await memory(ctx, 'PostgreSQL'));
  }
  if (want('knowledge')) {
    report(await knowledgeBench(ctx, 'PGlite'));
    report(await knowledgeBench(ctx, 'PostgreSQL'));
    report(await knowledgeTtft(ctx, 'PGlite'));
    report(await knowledgeTtft(ctx, 'PostgreSQL'));
  }
  if (want('startup')) report(await startup(ctx));
  if (want('tracing')) report(await tracingCost(ctx));
  if (want('event-log')) report(await eventLog(ctx));
  if (want('burst')) for (const result of await burst(ctx, serverRoot)) report(result);
  if (CLUSTER_PARTS.some((part) => want(`cluster-${part}`)))
    for (const result of await clusterScenarios(ctx, serverRoot, want)) report(result);
} finally {
  standIn.stop();
}

const seconds = (performance.now() - started) / 1000;
process.stdout.write(`\nDone in ${seconds.toFixed(0)} s.\n`);
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const dir = join(ROOT, 'bench', 'results');
await mkdir(dir, { recursive: true });
const json = JSON.stringify({ machine, quick, seconds, results }, null, 2);
const md = [
  `# Parley benchmarks (${quick ? 'quick' : 'full'}), ${new Date().toISOString()}`,
  '',
  `Machine: ${machine.cpus}, ${machine.memoryGb} GB RAM, Node ${machine.node}, ${machine.platform}. Took ${seconds.toFixed(0)} s.`,
  ...results.flatMap((r) => ['', `## ${r.title}`, '', r.markdown]),
  '',
].join('\n');
for (const name of [stamp, 'latest']) {
  await writeFile(join(dir, `${name}.json`), json);
  await writeFile(join(dir, `${name}.md`), md);
}
process.stdout.write(`Results: bench/results/${stamp}.{json,md}\n`);
