import type { z } from 'zod';

/**
 * Parses one provider event against its (deliberately partial) wire schema. A shape the
 * schema rejects is reported through `invalid` with the event name and the first bad path,
 * and gives `undefined`, so a mapper can end the step with `invalid_response`.
 */
export function parseWire<S extends z.ZodType>(
  schema: S,
  data: unknown,
  event: string,
  invalid: (message: string) => void,
): z.infer<S> | undefined {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data as z.infer<S>;
  const issue = parsed.error.issues[0];
  invalid(`unexpected ${event} shape at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  return undefined;
}
