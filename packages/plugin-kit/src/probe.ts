/**
 * The kit's probe: a fresh Node process (started by run-kit.ts under the permission model,
 * writes allowed in the plugin directory only, an empty environment) that imports the plugin
 * into a fresh host and runs every runtime check. Each check goes to the parent over IPC as
 * soon as it is known, so a plugin that blocks the process still leaves its earlier results.
 */
import {
  createInMemoryMemoryStore,
  createPluginHost,
  PLUGIN_CONTRACT,
  type PluginAuditEvent,
  type PluginDefinition,
  type ToolDefinition,
  type ToolMemory,
  toModelTool,
  validateToolArgs,
} from '@parley/core';
import semver from 'semver';
import { recordAccess } from './access-recorder.ts';
import { findPlugin } from './find-plugin.ts';
import { isBoundedRange } from './package-manifest.ts';
import { PermissionsSchema } from './registry.ts';
import { fail, type KitCheck, type KitTarget, pass, skip } from './result.ts';
import { type JsonSchema, sampleFromSchema } from './sample-input.ts';

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

class StepTimeout extends Error {}

async function within<T>(ms: number, work: () => Promise<T> | T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve().then(work),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new StepTimeout(`did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Errors that mean a bug in the tool rather than a refusal the model can read and act on. */
const PROGRAMMING_ERRORS = new Set(['TypeError', 'ReferenceError', 'SyntaxError', 'RangeError']);

function kitMemory(): ToolMemory {
  const store = createInMemoryMemoryStore();
  const scope = { workspaceId: 'kit-workspace', agentId: 'kit-agent', userId: 'kit-user' };
  return {
    remember: (text, options = {}) => store.write({ text, kind: options.kind ?? 'note', scope }),
    recall: (query, options = {}) =>
      store.search({ text: query, agentId: scope.agentId, limit: options.limit ?? 5 }),
  };
}

function manifestChecks(plugin: PluginDefinition, input: ProbeInput): KitCheck[] {
  const checks: KitCheck[] = [];
  const { target } = input;
  const mismatched = [
    input.packageName !== null && plugin.name !== input.packageName
      ? `name ${plugin.name} (package.json: ${input.packageName})`
      : '',
    input.packageVersion !== null && plugin.version !== input.packageVersion
      ? `version ${plugin.version} (package.json: ${input.packageVersion})`
      : '',
  ].filter(Boolean);
  checks.push(
    mismatched.length === 0
      ? pass('manifest', 'manifest.identity', `${plugin.name} ${plugin.version}`)
      : fail(
          'manifest',
          'manifest.identity',
          `the plugin definition says ${mismatched.join(' and ')}: make them the same`,
        ),
  );
  checks.push(
    plugin.contract === target.contract
      ? pass('manifest', 'manifest.contract', `contract ${plugin.contract}`)
      : fail(
          'manifest',
          'manifest.contract',
          `the plugin targets contract ${plugin.contract}; core ${target.core} speaks contract ${target.contract}`,
        ),
  );
  const declared = {
    network: plugin.permissions?.network ?? [],
    secrets: plugin.permissions?.secrets ?? [],
  };
  const permissions = PermissionsSchema.safeParse(declared);
  const problem = (path: PropertyKey[], expected: string) => {
    const [kind, index] = path as ['network' | 'secrets', number | undefined];
    return index === undefined
      ? `${kind} must be a list`
      : `${kind}.${index} ${JSON.stringify(declared[kind][index])} is not ${expected}`;
  };
  checks.push(
    permissions.success
      ? pass(
          'manifest',
          'manifest.permissions',
          `permissions: network ${declared.network.join(', ') || 'none'}; secrets ${declared.secrets.join(', ') || 'none'}`,
        )
      : fail(
          'manifest',
          'manifest.permissions',
          `malformed permissions: ${permissions.error.issues.map((i) => problem(i.path, i.message)).join('; ')}`,
        ),
  );
  const range = typeof plugin.core === 'string' ? semver.validRange(plugin.core) : null;
  if (!range || !isBoundedRange(plugin.core)) {
    checks.push(
      fail(
        'manifest',
        'manifest.core-range',
        `core range "${plugin.core}" is ${range ? 'unbounded' : 'not a semver range'}: declare a bounded range such as "^${target.core}"`,
      ),
    );
  } else if (!semver.satisfies(target.core, range)) {
    checks.push(
      fail(
        'manifest',
        'manifest.core-range',
        `core range ${plugin.core} does not include core ${target.core}`,
      ),
    );
  } else if (
    input.peerCore !== null &&
    semver.validRange(input.peerCore) !== null &&
    semver.validRange(input.peerCore) !== range
  ) {
    checks.push(
      fail(
        'manifest',
        'manifest.core-range',
        `the plugin declares core ${plugin.core} but package.json's peer range is ${input.peerCore}: make them the same`,
      ),
    );
  } else checks.push(pass('manifest', 'manifest.core-range', `core ${plugin.core}`));
  return checks;
}

function toolChecks(tool: ToolDefinition): { check: KitCheck; schema?: JsonSchema } {
  const id = `tools.schema:${tool.name}`;
  if (typeof tool.description !== 'string' || tool.description.trim().length < 10)
    return {
      check: fail(
        'tools',
        id,
        `tool ${tool.name} needs a description of a sentence: the model picks tools by it`,
      ),
    };
  if (!tool.input || typeof (tool.input as { safeParse?: unknown }).safeParse !== 'function')
    return {
      check: fail(
        'tools',
        id,
        `tool ${tool.name} has no zod input schema: set input: z.object({…})`,
      ),
    };
  let schema: JsonSchema;
  try {
    schema = toModelTool(tool).parameters as JsonSchema;
  } catch (error) {
    return {
      check: fail(
        'tools',
        id,
        `the input schema of ${tool.name} has no JSON Schema form (${(error as Error).message})`,
      ),
    };
  }
  if (schema.type !== 'object')
    return {
      check: fail(
        'tools',
        id,
        `the input of ${tool.name} must be a z.object({…}) (providers require it)`,
      ),
      schema,
    };
  const props = Object.keys(schema.properties ?? {}).length;
  return {
    check: pass('tools', id, `${tool.name}: ${props} parameter${props === 1 ? '' : 's'}`),
    schema,
  };
}

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
  for (const [index, tool] of tools.entries()) {
    const { check, schema } = toolChecks(tool);
    await report(check);
    const id = `sample-calls.${tool.name}`;
    if (!schema || check.status === 'fail') {
      await report(skip('sample-calls', id, `skipped: ${tool.name} has no usable schema`));
      continue;
    }
    const declared = Array.isArray(schema.examples) && schema.examples.length > 0;
    const args = sampleFromSchema(schema);
    const valid = validateToolArgs(tool, args);
    if (!valid.ok) {
      await report(
        fail(
          'sample-calls',
          id,
          declared
            ? `the declared example does not match the schema (${valid.reason})`
            : `no valid arguments could be made from the schema (${valid.reason}): declare one with input: z.object({…}).meta({ examples: [{…}] })`,
        ),
      );
      continue;
    }
    const controller = new AbortController();
    const { context, redact } = host.createToolContext(plugin, {
      toolCallId: `kit-call-${index + 1}`,
      agentId: 'kit-agent',
      conversationId: 'kit-conversation',
      userId: 'kit-user',
      signal: controller.signal,
      memory,
    });
    const shown = JSON.stringify(args);
    try {
      const result = await within(tool.timeoutMs ?? input.stepTimeoutMs, () =>
        tool.run(valid.value, context),
      );
      JSON.stringify(redact(result) ?? null);
      await send({ type: 'sample', tool: tool.name, args, outcome: 'returned' });
      await report(pass('sample-calls', id, `${tool.name}(${shown}) returned`));
    } catch (error) {
      controller.abort();
      const err = error as Error;
      const refusal =
        !declared &&
        err instanceof Error &&
        !(err instanceof StepTimeout) &&
        !PROGRAMMING_ERRORS.has(err.name) &&
        (err as NodeJS.ErrnoException).code !== 'ERR_ACCESS_DENIED' &&
        err.name !== 'PermissionDeniedError' &&
        err.message.trim() !== '';
      await send({
        type: 'sample',
        tool: tool.name,
        args,
        outcome: refusal ? 'refused' : 'failed',
      });
      await report(
        refusal
          ? pass(
              'sample-calls',
              id,
              `${tool.name}(${shown}) refused generated arguments: ${err.message}`,
            )
          : fail(
              'sample-calls',
              id,
              `${tool.name}(${shown}) ${err instanceof StepTimeout ? err.message : `failed: ${err?.name ?? 'Error'}: ${err?.message ?? String(error)}`}`,
            ),
      );
    }
  }

  const parts = plugin.connectors ?? [];
  if (parts.length === 0) await report(pass('lifecycle', 'lifecycle', 'no connectors to start'));
  const started: typeof parts = [];
  for (const part of parts) {
    try {
      await within(input.stepTimeoutMs, () => part.start());
      started.push(part);
      await report(pass('lifecycle', `lifecycle.start:${part.name}`, `${part.name} started`));
    } catch (error) {
      await report(
        fail(
          'lifecycle',
          `lifecycle.start:${part.name}`,
          `${part.name}.start() ${describe(error)}`,
        ),
      );
    }
  }
  for (const part of started.reverse()) {
    try {
      await within(input.stepTimeoutMs, () => part.stop());
      await report(pass('lifecycle', `lifecycle.stop:${part.name}`, `${part.name} stopped`));
    } catch (error) {
      await report(
        fail('lifecycle', `lifecycle.stop:${part.name}`, `${part.name}.stop() ${describe(error)}`),
      );
    }
  }

  for (const check of accessChecks(plugin, access, audits)) await report(check);
}

const describe = (error: unknown) =>
  error instanceof StepTimeout
    ? error.message
    : `threw: ${(error as Error)?.message ?? String(error)}`;

function accessChecks(
  plugin: PluginDefinition,
  access: ReturnType<typeof recordAccess>,
  audits: PluginAuditEvent[],
): KitCheck[] {
  const secrets = new Set(plugin.permissions?.secrets ?? []);
  // Even a declared secret is read through ctx.secrets: in process, the environment is the server's.
  const env = [...access.env];
  // The host audits a refused secret by its name (UPPER_SNAKE_CASE), a refused URL by its host.
  const denied = audits.filter((a) => a.action === 'plugin.permission_denied');
  const isSecretName = (resource: string) => /^[A-Z][A-Z0-9_]*$/.test(resource);
  const deniedSecrets = denied.filter((a) => isSecretName(a.resource));
  const deniedHosts = denied.filter((a) => !isSecretName(a.resource));
  const hosts = [...access.network, ...deniedHosts.map((a) => a.resource)];
  const writes = access.denied.filter((d) => d.permission === 'FileSystemWrite');
  const other = access.denied.filter((d) => d.permission !== 'FileSystemWrite');
  const declared = (list: string[] | undefined) => list?.join(', ') || 'none';
  return [
    env.length > 0
      ? fail(
          'access',
          'access.env',
          `reads environment variables: ${env.join(', ')}; read secrets with ctx.secrets.get (declared: ${declared([...secrets])}) and settings from the plugin's config`,
        )
      : pass('access', 'access.env', 'no undeclared environment reads'),
    deniedSecrets.length > 0
      ? fail(
          'access',
          'access.secrets',
          `asked for secrets it did not declare: ${deniedSecrets.map((a) => a.resource).join(', ')}; add them to permissions.secrets`,
        )
      : pass(
          'access',
          'access.secrets',
          `secrets read only as declared (${declared([...secrets])})`,
        ),
    hosts.length > 0
      ? fail(
          'access',
          'access.network',
          `reached for hosts it did not declare or outside ctx.fetch: ${[...new Set(hosts)].join(', ')} (declared: ${declared(plugin.permissions?.network)}); use ctx.fetch and list each host in permissions.network`,
        )
      : pass('access', 'access.network', 'network only through ctx.fetch to declared hosts'),
    writes.length > 0
      ? fail(
          'access',
          'access.fs',
          `wrote outside its directory: ${writes.map((w) => w.resource).join(', ')} (refused by the permission model)`,
        )
      : pass('access', 'access.fs', 'no writes outside its directory'),
    other.length > 0
      ? fail(
          'access',
          'access.process',
          `used what plugins may not: ${other.map((d) => `${d.permission}${d.resource ? ` ${d.resource}` : ''}`).join(', ')}`,
        )
      : pass('access', 'access.process', 'no child processes, workers or native addons'),
  ];
}

const input = JSON.parse(process.argv[2] ?? '{}') as ProbeInput;
main(input)
  .catch((error) =>
    report(fail('manifest', 'manifest.load', `the kit failed: ${(error as Error).stack}`)),
  )
  .then(() => send({ type: 'done' }))
  .finally(() => process.exit(0));
