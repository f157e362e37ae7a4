/**
 * Makes part ids that are unique within a run: the conformance checker rejects a part id that
 * starts twice anywhere in the run, and a run has many steps (and retried attempts), each with
 * its own `text`, `reasoning` and `refusal` parts. A random prefix per attempt keeps them apart.
 */
export function createPartIds(): (kind: 'txt' | 'rsn' | 'ref' | 'call') => string {
  const prefix = crypto.randomUUID().slice(0, 8);
  let next = 0;
  return (kind) => `${kind}_${prefix}_${next++}`;
}
