/**
 * Ctrl-C while a run streams: the handler runs (it cancels the run) instead of ending the
 * program. Returns the function that restores the default.
 */
export function sigintHook(handler: () => void): () => void {
  process.on('SIGINT', handler);
  return () => process.off('SIGINT', handler);
}
