import type { ModelRef } from '@parley/core';

/*
 * The model parameters an ElizaOS character sets, read from both places characters keep them:
 * 0.x `settings.modelConfig` (temperature, maxOutputTokens or max_response_length,
 * frequency_penalty, presence_penalty, maxInputTokens) and 1.x plain `settings` (temperature,
 * maxTokens, …, whose values may be strings: 1.x settings are an environment-style bag).
 * Each one with a Parley equivalent is mapped; each one without is named in a warning.
 */

export interface ElizaModelSettings {
  params: NonNullable<ModelRef['params']>;
  contextWindow?: number;
  /** The `settings` keys read here, so they are not reported again as unknown settings. */
  handled: string[];
  warnings: string[];
}

type Check = (value: number) => boolean;
const temperatureRange: Check = (value) => value >= 0 && value <= 2;
const positiveWhole: Check = (value) => Number.isInteger(value) && value > 0;

/** Parley's fields, with every ElizaOS spelling of them, first found wins. */
const MAPPED = [
  {
    field: 'temperature',
    names: ['temperature'],
    valid: temperatureRange,
    expected: 'a number from 0 to 2',
  },
  {
    field: 'maxOutputTokens',
    names: [
      'maxOutputTokens',
      'maxTokens',
      'max_tokens',
      'max_response_length',
      'maxResponseLength',
    ],
    valid: positiveWhole,
    expected: 'a positive whole number',
  },
  {
    // ElizaOS trims the prompt to maxInputTokens; Parley trims history to the context window.
    field: 'contextWindow',
    names: ['maxInputTokens', 'max_input_tokens'],
    valid: positiveWhole,
    expected: 'a positive whole number',
  },
] as const;

/** Sampling settings ElizaOS passes to its providers that Parley's model params do not have. */
const NO_EQUIVALENT = new Set([
  'topP',
  'top_p',
  'topK',
  'top_k',
  'frequency_penalty',
  'frequencyPenalty',
  'presence_penalty',
  'presencePenalty',
  'repetition_penalty',
  'repetitionPenalty',
  'stop',
  'stopSequences',
  'stop_sequences',
  'seed',
  'experimental_telemetry',
]);

export function readElizaModelSettings(
  settings: Record<string, unknown> | null | undefined,
): ElizaModelSettings {
  const result: ElizaModelSettings = { params: {}, handled: [], warnings: [] };
  const modelConfig = settings?.modelConfig;
  const places: [string, Record<string, unknown>][] = [];
  if (modelConfig && typeof modelConfig === 'object' && !Array.isArray(modelConfig))
    places.push(['settings.modelConfig', modelConfig as Record<string, unknown>]);
  if (settings) places.push(['settings', settings]);

  for (const { field, names, valid, expected } of MAPPED) {
    let chosen: { path: string; value: number } | undefined;
    for (const [where, bag] of places) {
      for (const name of names) {
        if (!Object.hasOwn(bag, name)) continue;
        if (where === 'settings') result.handled.push(name);
        const path = `${where}.${name}`;
        const value = asNumber(bag[name]);
        if (value === undefined || !valid(value)) {
          result.warnings.push(`${path} was not imported: expected ${expected}`);
        } else if (!chosen) {
          chosen = { path, value };
        } else if (value !== chosen.value) {
          result.warnings.push(
            `${path} (${value}) was not imported: ${chosen.path} (${chosen.value}) sets the same thing`,
          );
        }
      }
    }
    if (!chosen) continue;
    if (field === 'contextWindow') result.contextWindow = chosen.value;
    else result.params[field] = chosen.value;
  }

  // In modelConfig every key is a model parameter; in settings only the known sampling names.
  const mappedNames = new Set<string>(MAPPED.flatMap((entry) => entry.names));
  const unmatched: string[] = [];
  for (const [where, bag] of places) {
    for (const name of Object.keys(bag)) {
      const inConfig = where !== 'settings';
      if (mappedNames.has(name) || !(inConfig || NO_EQUIVALENT.has(name))) continue;
      unmatched.push(`${where}.${name}`);
      if (!inConfig) result.handled.push(name);
    }
  }
  if (unmatched.length > 0) {
    result.warnings.push(
      `${unmatched.join(', ')} ${unmatched.length === 1 ? 'was' : 'were'} not imported: Parley's model parameters are temperature, maxOutputTokens and reasoning (model.params) and the context window (model.contextWindow)`,
    );
  }
  return result;
}

/** A number, or the text of one (1.x settings often come from .env-style strings). */
function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : undefined;
}
