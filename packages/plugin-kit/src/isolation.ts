import { Socket } from 'node:net';
import { type SandboxAuditEvent, startSandboxedPlugin } from '@parley/sandbox';
import type { SampleOutcome } from './probe.ts';
import { fail, type KitCheck, pass, skip } from './result.ts';

export interface IsolationInput {
  dir: string;
  entry: string;
  permissions: { network: string[]; secrets: string[] };
  /** The tools and sample calls as they went in process. */
  samples: { tool: string; args: unknown; outcome: SampleOutcome }[];
  toolNames: string[];
  stepTimeoutMs: number;
}

/** The kit has no network to give: the sandbox's proxy gets a connection that fails at once. */
function noNetwork(): Socket {
  const socket = new Socket();
  process.nextTick(() => socket.destroy(new Error('the plugin kit does not reach the network')));
  return socket;
}

const describeAudit = (event: SandboxAuditEvent) => `${event.kind} ${event.resource}`;

/**
 * Runs the plugin as a community plugin runs: out of process in @parley/sandbox, with its
 * declared permissions (writes inside its directory), stand-in values for its secrets, and
 * the same sample calls it got in process. Every denial the sandbox audits is a failure.
 */
export async function isolationChecks(input: IsolationInput): Promise<KitCheck[]> {
  const checks: KitCheck[] = [];
  const denied: SandboxAuditEvent[] = [];
  let sandbox: Awaited<ReturnType<typeof startSandboxedPlugin>>;
  try {
    sandbox = await startSandboxedPlugin({
      dir: input.dir,
      entry: input.entry,
      permissions: { ...input.permissions, writeDir: true },
      // The OS sandbox where this machine has it, else the weak mode (an author's laptop).
      isolation: 'auto',
      secrets: Object.fromEntries(
        input.permissions.secrets.map((name) => [name, `kit-stand-in-value-of-${name}`]),
      ),
      onAudit: (event) => {
        if (event.action === 'plugin.permission_denied') denied.push(event);
      },
      timeouts: { startMs: Math.max(15_000, input.stepTimeoutMs * 3), callMs: input.stepTimeoutMs },
      connect: noNetwork,
    });
  } catch (error) {
    return [
      fail(
        'isolation',
        'isolation.start',
        `it does not start out of process (@parley/sandbox): ${(error as Error).message}`,
      ),
    ];
  }
  try {
    const names = sandbox.tools.map((t) => t.name).sort();
    const expected = [...input.toolNames].sort();
    checks.push(
      names.join() === expected.join()
        ? pass(
            'isolation',
            'isolation.start',
            `runs out of process (@parley/sandbox, ${sandbox.isolation === 'os' ? 'OS sandbox' : 'weak mode'}, network: ${sandbox.network}) with the same ${names.length} tool${names.length === 1 ? '' : 's'}`,
          )
        : fail(
            'isolation',
            'isolation.start',
            `out of process it offers ${names.join(', ') || 'no tools'}, in process ${expected.join(', ') || 'none'}`,
          ),
    );
    for (const sample of input.samples) {
      const id = `isolation.call:${sample.tool}`;
      if (input.permissions.network.length > 0) {
        checks.push(
          skip(
            'isolation',
            id,
            'skipped: it declares hosts, and the kit gives no network out of process',
          ),
        );
        continue;
      }
      if (sample.outcome === 'failed') {
        checks.push(skip('isolation', id, 'skipped: the call already failed in process'));
        continue;
      }
      try {
        await sandbox.call(sample.tool, sample.args, { toolCallId: `kit-isolated-${sample.tool}` });
        checks.push(pass('isolation', id, `${sample.tool} returned out of process`));
      } catch (error) {
        const message = `${sample.tool} out of process: ${(error as Error).message}`;
        checks.push(
          sample.outcome === 'refused'
            ? pass('isolation', id, `${message} (refused in process too)`)
            : fail('isolation', id, `${message}, but it returned in process`),
        );
      }
    }
  } finally {
    await sandbox.stop();
  }
  checks.push(
    denied.length > 0
      ? fail(
          'isolation',
          'isolation.audit',
          `out of process the sandbox denied: ${[...new Set(denied.map(describeAudit))].join(', ')}`,
        )
      : pass('isolation', 'isolation.audit', 'the sandbox denied nothing'),
  );
  return checks;
}
