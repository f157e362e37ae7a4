/** A read the test finishes when it wants, counting how often it was started. */
export function controlledReads<T>() {
  const pending: PromiseWithResolvers<T>[] = [];
  return {
    get started() {
      return pending.length;
    },
    load: () => {
      const read = Promise.withResolvers<T>();
      pending.push(read);
      return read.promise;
    },
    finish(index: number, value: T) {
      pending[index]!.resolve(value);
    },
    fail(index: number, error: Error) {
      pending[index]!.reject(error);
    },
  };
}
