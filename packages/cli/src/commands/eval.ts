import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { api } from '@parley/protocol';
import type { Command } from '../command.ts';
import { compareCases } from '../eval/compare.ts';
import { DatasetError, parseDataset } from '../eval/dataset.ts';
import { createJudge } from '../eval/judge.ts';
import { formatTable } from '../eval/report.ts';
import { mean, runCases } from '../eval/run-cases.ts';
import { CliError, type Io, line } from '../io.ts';
import { resolveTarget } from '../target.ts';

export const evalCommand: Command = {
  name: 'eval',
  summary: 'Run a dataset of cases against an agent, score them, compare with the last eval.',
  usage:
    'parley eval <dataset.jsonl> --agent <name>[@version|@draft] [--min-score 0..1] [--concurrency 4] [--judge <provider/model>] [--judge-base-url <url>] [--no-store] [--json]',
  examples: [
    'parley eval evals/support.jsonl --agent support-bot',
    'parley eval evals/support.jsonl --agent support-bot@draft --min-score 0.8',
    'parley eval evals/tone.jsonl --agent support-bot@3 --judge openai/gpt-4.1-mini',
  ],
  options: {
    agent: { type: 'string', short: 'a' },
    'min-score': { type: 'string' },
    concurrency: { type: 'string' },
    judge: { type: 'string' },
    'judge-base-url': { type: 'string' },
    'no-store': { type: 'boolean' },
  },
  async run({ positionals, values }, io) {
    const file = positionals[0];
    if (!file) throw new CliError('Which dataset? parley eval <dataset.jsonl> --agent <name>', 2);
    const minScore = numberOption(values['min-score'], 'min-score', 0, 1);
    const concurrency = numberOption(values.concurrency, 'concurrency', 1, 32) ?? 4;
    const [agent, version] = parseAgentRef(values.agent as string | undefined);
    let cases: ReturnType<typeof parseDataset>;
    try {
      cases = parseDataset(await readFile(resolve(io.cwd, file), 'utf8'));
    } catch (error) {
      if (error instanceof DatasetError) throw new CliError(`${file}: ${error.message}`, 2);
      throw new CliError(`${file}: ${(error as Error).message}`, 2);
    }
    const dataset = basename(file).replace(/\.jsonl?$/i, '');
    const target = await resolveTarget(values, io);
    const { client, workspaceId } = target;
    // The version that runs: the one named, else the deployed one (the draft while none is).
    const ran =
      version ?? (await client.agents.get(workspaceId, agent)).version?.version ?? 'draft';
    const [previous] = await client.evals.list(workspaceId, agent, { dataset, limit: 1 });

    const progress = progressBar(io, cases.length);
    const results = await runCases({
      client,
      workspaceId,
      agent,
      version: ran,
      cases,
      concurrency,
      judge: createJudge({
        model: values.judge as string | undefined,
        baseURL: values['judge-base-url'] as string | undefined,
        env: io.env,
      }),
      onCase: progress,
    });
    const meanScore = mean(results.map((c) => c.score));
    const stored = values['no-store']
      ? undefined
      : await client.evals.create(workspaceId, agent, {
          dataset,
          version: ran,
          meanScore,
          cases: results,
        });
    const changes = compareCases(results, previous?.cases);
    const gate = minScore !== undefined && meanScore < minScore;
    if (values.json) {
      line(
        io,
        JSON.stringify(
          {
            result: stored ?? null,
            meanScore,
            changes: Object.fromEntries(changes),
            previous: previous?.id ?? null,
            cases: results,
          },
          null,
          2,
        ),
      );
    } else {
      line(
        io,
        `${agent} ${ran === 'draft' ? 'draft' : `v${ran}`} on ${dataset}${previous ? ` (vs ${previous.versionLabel}, ${previous.createdAt.slice(0, 16).replace('T', ' ')})` : ''}`,
      );
      line(io, formatTable(results, changes, meanScore, previous?.meanScore));
      if (gate) line(io, `✗ mean score ${meanScore.toFixed(2)} is under --min-score ${minScore}`);
    }
    return gate ? 1 : 0;
  },
};

/** `support-bot`, `support-bot@3`, `support-bot@draft`. */
function parseAgentRef(ref: string | undefined): [string, number | 'draft' | undefined] {
  if (!ref) throw new CliError('Which agent? --agent <name>[@version]', 2);
  const at = ref.lastIndexOf('@');
  if (at < 0) return [ref, undefined];
  const [name, version] = [ref.slice(0, at), ref.slice(at + 1)];
  if (version === 'draft') return [name, 'draft'];
  if (!/^[1-9]\d*$/.test(version))
    throw new CliError(`--agent ${ref}: the version is a number or "draft"`, 2);
  return [name, Number(version)];
}

function numberOption(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isFinite(number) || number < min || number > max)
    throw new CliError(`--${name} takes a number from ${min} to ${max}`, 2);
  return number;
}

/** A progress bar on stderr (terminals only): `[######----] 6/10`. */
function progressBar(io: Io, total: number) {
  if (!io.stderr.isTTY) return undefined;
  const width = 24;
  const draw = (done: number) => {
    const filled = Math.round((done / total) * width);
    io.stderr.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total}`);
    if (done === total) io.stderr.write('\r\x1b[2K');
  };
  draw(0);
  return (done: number) => draw(done);
}

export type { api };
