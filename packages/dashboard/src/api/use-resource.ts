import { useCallback, useEffect, useRef, useState } from 'react';

export interface Resource<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** Loads again (keeps showing the old data meanwhile). */
  reload(): Promise<void>;
}

/**
 * Loads `load()` when the component mounts and whenever `deps` change; the latest request
 * wins (a slow answer to an older request is dropped).
 */
// A stable id per object (clients, for example), so deps compare by identity inside a string key.
const ids = new WeakMap<object, number>();
let nextId = 0;
function identity(value: object): string {
  let id = ids.get(value);
  if (id === undefined) {
    id = ++nextId;
    ids.set(value, id);
  }
  return `#${id}`;
}

export function useResource<T>(load: () => Promise<T>, deps: readonly unknown[]): Resource<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const latest = useRef(0);
  const loader = useRef(load);
  loader.current = load;

  const reload = useCallback(async () => {
    const ticket = ++latest.current;
    setState((s) => ({ ...s, loading: true }));
    try {
      const data = await loader.current();
      if (ticket === latest.current) setState({ data, error: undefined, loading: false });
    } catch (error) {
      if (ticket === latest.current) setState((s) => ({ data: s.data, error, loading: false }));
    }
  }, []);

  // The caller names what the load depends on (the hook cannot see into `load`).
  const key = JSON.stringify(
    deps.map((d) => (typeof d === 'object' && d !== null ? identity(d) : d)),
  );
  useEffect(() => {
    void key;
    void reload();
  }, [key, reload]);

  return { ...state, reload };
}
