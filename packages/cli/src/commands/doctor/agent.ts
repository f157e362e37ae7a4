import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadAgentFile } from '@parley/agent-file';
import { type AgentDefinition, embeddingModelOf, type ModelRef } from '@parley/core';
import { DEFAULT_BASE_URLS, PROVIDER_KEY_PAGES } from '@parley/providers/catalogue';
import { checkModelKey, keySecretOf } from '@parley/server';
import { withProgress } from '../../progress.ts';
import { AGENT_FILES, projectEnv } from '../../project.ts';
import { type Check, type Context, plural, REQUEST_TIMEOUT_MS, shown } from './shared.ts';

/*
 * `parley doctor`, one area: the project's agent and its model keys (one cheap request each,
 * through the server's key check).
 */

async function checkModel(
  ctx: Context,
  ref: ModelRef,
  env: Record<string, string>,
): Promise<Check> {
  const name = `model ${ref.provider}/${ref.model}`;
  if (ref.provider === 'scripted')
    return { name, status: 'ok', detail: 'scripted: plays agent.yaml back offline, needs no key' };
  const base = (ref.baseURL ?? DEFAULT_BASE_URLS[ref.provider] ?? '').replace(/\/+$/, '');
  const secret = keySecretOf(ref);
  const key = secret ? (env[secret] ?? ctx.io.env[secret]) : undefined;
  if (secret && !key)
    return {
      name,
      status: 'fail',
      detail: `${secret} is not set (neither in .env nor in the environment)`,
      fix: `Add ${secret}=<your key> to .env${PROVIDER_KEY_PAGES[ref.provider] ? ` (get one at ${PROVIDER_KEY_PAGES[ref.provider]})` : ''}; parley deploy sends it to the server.`,
    };
  // The same cheap request the server's key check makes (GET …/models, or /key on OpenRouter).
  const check = await checkModelKey(ref, new Map(secret && key ? [[secret, key]] : []), {
    timeoutMs: REQUEST_TIMEOUT_MS,
  });
  const last4 = key && key.length >= 12 ? ` (…${key.slice(-4)})` : '';
  const named = secret ? ` ${secret}` : '';
  switch (check.result) {
    case 'ok':
      return {
        name,
        status: 'ok',
        detail: secret
          ? `${secret}${last4} accepted by ${check.host}`
          : `${base} answers (no key needed)`,
      };
    case 'rejected':
      return secret
        ? {
            name,
            status: 'fail',
            detail: `${check.host} rejected ${secret}${last4} (HTTP ${check.httpStatus})`,
            fix: `Replace ${secret} in .env with a valid key${PROVIDER_KEY_PAGES[ref.provider] ? ` (${PROVIDER_KEY_PAGES[ref.provider]})` : ''}, then parley deploy.`,
          }
        : {
            name,
            status: 'fail',
            detail: `${base} wants a key (HTTP ${check.httpStatus}) and the agent names none`,
            fix: 'Add apiKeySecret: <SECRET_NAME> to the model in agent.yaml and put SECRET_NAME=<key> in .env.',
          };
    case 'refused':
      return {
        name,
        status: 'fail',
        detail: check.detail,
        fix: `Use an https:// baseURL in agent.yaml (plain http only reaches this machine, e.g. http://127.0.0.1:11434/v1).`,
      };
    case 'unreachable':
      return {
        name,
        status: 'warn',
        detail: `cannot check${named}: ${check.detail}`,
        fix:
          ref.provider === 'openai-compatible'
            ? `Is the server at ${base} running (Ollama: ollama serve)? Runs fail the same way until it answers.`
            : 'Check the network or proxy of this machine; runs from here fail the same way.',
      };
    default: {
      const status = check.httpStatus ?? 0;
      return {
        name,
        status: 'warn',
        detail: `cannot check${named}: ${check.host} answered HTTP ${status}`,
        ...(status === 429 || status >= 500
          ? { fix: 'The provider is busy or failing; try again later.' }
          : {
              fix: `Check baseURL in agent.yaml (${base}): it must be the API root with its version, e.g. …/v1.`,
            }),
      };
    }
  }
}

/** How the agent's memory recalls: by meaning (an embedding model) or by words only. */
function checkEmbedding(agent: AgentDefinition): Check {
  const name = 'memory recall';
  if (!agent.memory.enabled)
    return { name, status: 'skip', detail: 'memory is off (memory.enabled: false)' };
  const resolved = embeddingModelOf(agent);
  if (!resolved.ref)
    return {
      name,
      status: 'warn',
      detail: `full-text only: ${resolved.why}`,
      fix: 'Add memory.embeddingModel to agent.yaml, e.g. { provider: openai, model: text-embedding-3-small } (docs/memory.md).',
    };
  const how = resolved.named ? 'memory.embeddingModel' : `${resolved.ref.provider}'s standard`;
  const note = resolved.ref.provider === 'scripted' ? ' (deterministic, not semantic)' : '';
  return {
    name,
    status: 'ok',
    detail: `hybrid (vectors + words): embeds with ${resolved.id}${note}, ${how}`,
  };
}

export async function checkAgent(ctx: Context, checks: Check[]) {
  const file = AGENT_FILES.map((f) => join(ctx.cwd, f)).find(existsSync);
  if (!file) {
    checks.push({
      name: 'agent',
      status: 'skip',
      detail: `no agent file here (${AGENT_FILES.join(', ')}): agent and model key checks skipped; run parley doctor in a project made by parley create`,
    });
    return;
  }
  let agent: AgentDefinition;
  try {
    agent = await loadAgentFile(file);
  } catch (error) {
    checks.push({
      name: 'agent',
      status: 'fail',
      detail: `${shown(file, ctx.cwd)} is not a valid agent:\n${(error as Error).message}`,
      fix: `Correct ${shown(file, ctx.cwd)} where the lines above say (every field: docs/agents.md).`,
    });
    return;
  }
  const refs = [agent.model, ...agent.fallbackModels];
  checks.push({
    name: 'agent',
    status: 'ok',
    detail: `${agent.name} (${shown(file, ctx.cwd)}): ${agent.model.provider}/${agent.model.model}${agent.fallbackModels.length ? ` + ${plural(agent.fallbackModels.length, 'fallback')}` : ''}`,
  });
  checks.push(checkEmbedding(agent));
  const seen = new Set<string>();
  const unique = refs.filter((ref) => {
    const key = JSON.stringify([ref.provider, ref.model, ref.baseURL, keySecretOf(ref)]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const env = projectEnv(ctx.io);
  checks.push(
    ...(await withProgress(
      ctx.io,
      'Checking model keys',
      Promise.all(unique.map((ref) => checkModel(ctx, ref, env))),
    )),
  );
}
