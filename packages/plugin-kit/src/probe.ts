/**
 * The kit's probe: a fresh Node process (started by run-kit.ts under the permission model,
 * writes allowed in the plugin directory only, an empty environment) that imports the plugin
 * into a fresh host and runs every runtime check. Each check goes to the parent over IPC as
 * soon as it is known, so a plugin that blocks the process still leaves its earlier results.
 */
import {
  createPluginHost,
  PLUGIN_CONTRACT,
  type PluginAuditEvent,
  type PluginDefinition,
} from '@parley/core';
import { recordAccess } from './access-recorder.ts';
import { findPlugin } from './find-plugin.ts';
import { accessChecks, manifestChecks } from './probe-checks.ts';
import { kitMemory, lifecycleChecks, sampleTool, within } from './probe-steps.ts';
import { fail, type KitCheck, type KitTarget, pass, skip } from './result.ts';

export interface ProbeInput {
  dir: string;
  entry: string;
  packageName: string | null;
  packageVersion: string | null;
  peerCore: string | null;
  target: KitTarget;
  config: Record<string, unknown> | undefined;
  /** Limit for one tool call, one start or one stop. */
  stepTimeoutMs: number;
  /** Limit for importing the plugin's entry module. */
  importTimeoutMs: number;
}

/** How a sample call ended in process: returned, refused with a plain Error, or failed. */
export type SampleOutcome = 'returned' | 'refused' | 'failed';

/** What the probe sends its parent. */
export type ProbeMessage =
  | { type: 'check'; check: KitCheck }
  | {
      type: 'plugin';
      name: string;
      version: string;
      permissions: { network: string[]; secrets: string[] };
      /** Whether it is the entry's default export: what @parley/sandbox can run. */
      defaultExport: boolean;
      tools: string[];
    }
  | { type: 'sample'; tool: string; args: unknown; outcome: SampleOutcome }
  | { type: 'ready' }
  | { type: 'done' };

const send = (message: ProbeMessage) =>
  new Promise<void>((done) => {
    process.send?.(message, () => done());
  });
const report = (check: KitCheck) => send({ type: 'check', check });

async function main(input: ProbeInput) {
  await send({ type: 'ready' });
  const access = recordAccess(input.dir);
  const audits: PluginAuditEvent[] = [];
  let plugin: PluginDefinition;
  let exportedAsDefault = false;
  try {
    const exports = (await within(input.importTimeoutMs, () => import(input.entry))) as Record<
      string,
      unknown
    >;
    const found = findPlugin(exports, input.packageName, input.config);
    plugin = found.plugin;
    exportedAsDefault = found.isDefaultExport;
    await report(pass('manifest', 'manifest.load', `loaded: ${found.from}`));
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND';
    await report(
      fail(
        'manifest',
        'manifest.load',
        `the plugin did not load: ${(error as Error).message}${missing ? ' (run npm install in the plugin directory)' : ''}`,
      ),
    );
    return;
  }
  await send({
    type: 'plugin',
    name: plugin.name,
    version: plugin.version,
    permissions: {
      network: [...(plugin.permissions?.network ?? [])],
      secrets: [...(plugin.permissions?.secrets ?? [])],
    },
    defaultExport: exportedAsDefault,
    tools: (plugin.tools ?? []).map((tool) => tool.name),
  });
  for (const check of manifestChecks(plugin, input)) await report(check);

  const host = createPluginHost({
    coreVersion: input.target.core,
    secrets: (name) => `kit-stand-in-value-of-${name}`,
    audit: (event) => audits.push(event),
    // The kit never reaches the internet: a declared host gets this stand-in answer.
    fetch: async (url) =>
      new Response(`stand-in response from the plugin kit for ${String(url)}`, {
        headers: { 'content-type': 'text/plain' },
      }),
  });
  try {
    if (input.target.contract !== PLUGIN_CONTRACT)
      throw new Error(
        `this kit's host speaks contract ${PLUGIN_CONTRACT}, not ${input.target.contract}`,
      );
    host.register(plugin);
    await report(pass('manifest', 'manifest.host', `a core ${input.target.core} host accepts it`));
  } catch (error) {
    await report(fail('manifest', 'manifest.host', (error as Error).message));
    await report(skip('tools', 'tools', 'skipped: the host refused the plugin'));
    return;
  }

  const tools = plugin.tools ?? [];
  if (tools.length === 0) await report(pass('tools', 'tools', 'the plugin defines no tools'));
  const memory = kitMemory();
  const channel = { report, send };
  for (const [index, tool] of tools.entries()) {
    await sampleTool({
      tool,
      index,
      plugin,
      host,
      memory,
      stepTimeoutMs: input.stepTimeoutMs,
      channel,
    });
  }
  await lifecycleChecks(plugin, input.stepTimeoutMs, report);
  for (const check of accessChecks(plugin, access, audits)) await report(check);
}

const input = JSON.parse(process.argv[2] ?? '{}') as ProbeInput;
main(input)
  .catch((error) =>
    report(fail('manifest', 'manifest.load', `the kit failed: ${(error as Error).stack}`)),
  )
  .then(() => send({ type: 'done' }))
  .finally(() => process.exit(0));
