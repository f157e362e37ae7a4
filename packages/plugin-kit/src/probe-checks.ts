import {
  type PluginAuditEvent,
  type PluginDefinition,
  type ToolDefinition,
  toModelTool,
} from '@parley/core';
import semver from 'semver';
import type { recordAccess } from './access-recorder.ts';
import { isBoundedRange } from './package-manifest.ts';
import type { ProbeInput } from './probe.ts';
import { PermissionsSchema } from './registry.ts';
import { fail, type KitCheck, pass } from './result.ts';
import type { JsonSchema } from './sample-input.ts';

/*
 * The probe's checks that judge what it found without running anything: the plugin's
 * manifest, each tool's description and schema, and what the plugin reached for while it ran.
 */

export function manifestChecks(plugin: PluginDefinition, input: ProbeInput): KitCheck[] {
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

export function toolChecks(tool: ToolDefinition): { check: KitCheck; schema?: JsonSchema } {
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

export function accessChecks(
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
