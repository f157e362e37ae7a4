import { type Bus, BusListeners, type BusMessage, type BusListeners as Listeners } from './bus.ts';

/**
 * One process alone (PGlite, or a single PostgreSQL instance asked to stay alone): messages
 * go to this process's listeners, after the current turn like a real bus would.
 */
export function createLocalBus(): Bus {
  const listeners: Listeners = new BusListeners();
  let closed = false;
  return {
    kind: 'local',
    publish(message: BusMessage) {
      if (closed) return;
      // Copied as a real bus would: no listener shares the sender's object.
      const copy = JSON.parse(JSON.stringify(message)) as BusMessage;
      queueMicrotask(() => listeners.deliver([copy]));
    },
    subscribe: (listener) => listeners.subscribe(listener),
    onResync: (listener) => listeners.onResync(listener),
    onStatus: (listener) => listeners.onStatus(listener),
    status: () => ({ kind: 'local', up: !closed, via: closed ? 'none' : 'local' }),
    async close() {
      closed = true;
    },
  };
}
