import {
  createModel,
  PROVIDER_CATALOGUE,
  PROVIDER_NAMES,
  type ProviderName,
} from '@parley/providers';
import type { Judge } from './scorers.ts';

/*
 * The LLM judge (docs/evals.md): a model the user names grades each answer against the case's
 * rubric. It is called from here, with the user's own key, through Parley's provider adapters
 * (so any provider Parley speaks can judge, including an OpenAI-compatible server).
 */

export interface JudgeOptions {
  /** `provider/model`, e.g. `openai/gpt-4.1-mini`; a criterion may name another. */
  model: string | undefined;
  /** The API root, for `openai-compatible` (or to point a provider elsewhere). */
  baseURL?: string | undefined;
  env: Record<string, string | undefined>;
}

const INSTRUCTIONS = [
  'You grade an AI agent’s answer against a rubric.',
  'Reply with one JSON object and nothing else: {"score": <a number from 0 to 1>, "reason": "<one sentence>"}.',
  '1 means the answer fully meets the rubric, 0 that it does not meet it at all.',
].join('\n');

/** `openai/gpt-4.1-mini` → provider and model (a model name may hold slashes: OpenRouter's). */
export function parseJudgeModel(ref: string): { provider: ProviderName; model: string } {
  const slash = ref.indexOf('/');
  const provider = ref.slice(0, slash) as ProviderName;
  if (slash < 1 || !PROVIDER_NAMES.includes(provider) || slash === ref.length - 1)
    throw new Error(
      `judge model ${ref}: write <provider>/<model>, provider one of ${PROVIDER_NAMES.join(', ')}`,
    );
  return { provider, model: ref.slice(slash + 1) };
}

/** The score and reason in a judge's reply (the first JSON object in it). */
export function readVerdict(reply: string): { score: number; reason: string } {
  const json = /\{[\s\S]*\}/.exec(reply)?.[0];
  if (!json) throw new Error(`the judge did not answer with JSON: ${reply.slice(0, 200)}`);
  const value = JSON.parse(json) as { score?: unknown; reason?: unknown };
  const score = Number(value.score);
  if (!Number.isFinite(score)) throw new Error(`the judge gave no score: ${json.slice(0, 200)}`);
  return { score: Math.min(1, Math.max(0, score)), reason: String(value.reason ?? '') };
}

export function createJudge(options: JudgeOptions): Judge | undefined {
  if (!options.model) return undefined;
  return async ({ input, output, rubric, model }) => {
    const { provider, model: name } = parseJudgeModel(model ?? options.model!);
    const keyName = PROVIDER_CATALOGUE[provider].keySecret;
    const apiKey = options.env.PARLEY_JUDGE_API_KEY ?? (keyName ? options.env[keyName] : undefined);
    const baseURL = options.baseURL ?? options.env.PARLEY_JUDGE_BASE_URL;
    const judge = createModel({
      provider,
      model: name,
      ...(apiKey ? { apiKey } : {}),
      ...(baseURL ? { baseURL } : {}),
    });
    let reply = '';
    for await (const part of judge.stream({
      temperature: 0,
      messages: [
        { role: 'system', content: INSTRUCTIONS },
        {
          role: 'user',
          content: `Rubric:\n${rubric}\n\nThe user asked:\n${input}\n\nThe agent answered:\n${output}`,
        },
      ],
    })) {
      if (part.type === 'text.delta') reply += part.delta;
      if (part.type === 'step.finish' && part.error)
        throw new Error(`the judge model failed: ${part.error.code}: ${part.error.message}`);
    }
    return readVerdict(reply);
  };
}
