import type { Store } from '@parley/store';

/**
 * Which instance of a cluster holds a channel's one connection (Telegram's getUpdates, a
 * Discord gateway): the instance whose hit opens the window of the shared counter
 * `channel-listen:<channel>` (`cluster_counters`, the store's cluster primitive). The holder
 * keeps the window open every third of `leaseMs`; when it dies the window lapses and the next
 * instance to try takes over. Platforms refuse a second poller themselves (Telegram answers
 * 409), so a holder that stalled past its window cannot double-answer for long.
 */
export function createListenLease(options: {
  store: Store;
  key: string;
  leaseMs: number;
  signal: AbortSignal;
  /** Called once the lease is held; its signal aborts when the lease is lost or released. */
  onHeld(signal: AbortSignal): Promise<void>;
}) {
  const counters = options.store.system.cluster.counters;
  const key = `channel-listen:${options.key}`;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      options.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });

  async function hold() {
    const held = new AbortController();
    const stop = () => held.abort();
    options.signal.addEventListener('abort', stop);
    const renew = setInterval(
      () => {
        counters.hold(key, options.leaseMs).catch(() => held.abort());
      },
      Math.floor(options.leaseMs / 3),
    );
    try {
      await options.onHeld(held.signal);
    } finally {
      clearInterval(renew);
      options.signal.removeEventListener('abort', stop);
      // Released at once, so another instance need not wait for the window to lapse.
      await counters.reset(key).catch(() => {});
    }
  }

  return {
    /** Tries for the lease until the signal aborts; holds it while it can. */
    async run(): Promise<void> {
      while (!options.signal.aborted) {
        const hit = await counters.hit(key, options.leaseMs).catch(() => undefined);
        if (hit?.count === 1) await hold();
        else await sleep(hit ? Math.max(hit.ttlMs, 100) : options.leaseMs);
      }
    },
  };
}
