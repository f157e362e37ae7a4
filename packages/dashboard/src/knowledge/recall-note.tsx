import { providerFacts } from '@parley/providers/catalogue';

/*
 * An agent whose provider has no embedding model (Anthropic) and that names none in
 * `memory.embeddingModel` recalls memories and knowledge by words only (docs/memory.md,
 * "Embedding models"); the server says so in each run's `memory.recall`, this says it upfront.
 */

interface DefinitionLike {
  model?: { provider?: string };
  memory?: { enabled?: boolean; embeddingModel?: unknown };
}

/** True when the definition's memory is on and nothing can embed its recall queries. */
export function recallsByWordsOnly(definition: unknown): boolean {
  const d = (definition ?? {}) as DefinitionLike;
  if (d.memory?.enabled === false || d.memory?.embeddingModel) return false;
  const facts = d.model?.provider ? providerFacts(d.model.provider) : undefined;
  return facts !== undefined && facts.embeddingModel === undefined;
}

/** The short note on an agent's card. */
export function RecallNote({ definition }: { definition: unknown }) {
  if (!recallsByWordsOnly(definition)) return null;
  const provider = (definition as DefinitionLike).model?.provider;
  return (
    <p className="muted small" role="note">
      Recalls memories and knowledge by full text only: {provider} has no embedding model. Name one
      in <code>memory.embeddingModel</code> to search by meaning (see <code>docs/memory.md</code>).
    </p>
  );
}
