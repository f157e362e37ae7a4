import { randomUUID } from 'node:crypto';
import type { Bus, BusMessage } from '@parley/cluster';
import type { Store } from '@parley/store';
import { z } from 'zod';

/*
 * The plugin kill switch of a cluster (docs/scaling.md, "Cluster-wide state"). An operator's
 * switch is stored (it overrides PARLEY_DISABLED_PLUGINS), applied here before the operator
 * hears it is done, and on every other instance when the bus brings it. Every instance reads
 * the stored switches when it starts and again when its bus comes back (messages may have
 * been lost meanwhile).
 */

const SwitchMessage = z
  .object({
    type: z.literal('plugin.switched'),
    from: z.string().min(1).max(100),
    name: z.string().min(1).max(214),
    disabled: z.boolean(),
  })
  .strict();

/** What the switch acts on: the run manager's list of disabled plugins. */
export interface SwitchTargets {
  disablePlugin(name: string): Promise<void>;
  readonly disabledPlugins: Set<string>;
}

export interface PluginSwitches {
  /** Applies the stored switches (at start; again after a resync). */
  load(): Promise<void>;
  /** Stores the switch, applies it here, then on every other instance. */
  set(name: string, disabled: boolean, by: string): Promise<void>;
}

export function createPluginSwitches(options: {
  store: Store;
  bus: Bus;
  runs: () => SwitchTargets;
  log: { warn(details: object, message: string): void };
}): PluginSwitches {
  const { store, bus, log } = options;
  const self = randomUUID();

  const apply = async (name: string, disabled: boolean) => {
    const runs = options.runs();
    if (disabled) await runs.disablePlugin(name);
    else runs.disabledPlugins.delete(name);
  };

  const load = async () => {
    for (const entry of await store.system.cluster.pluginSwitches.list())
      await apply(entry.name, entry.disabled);
  };

  bus.subscribe((message: BusMessage) => {
    if (message.type !== 'plugin.switched') return;
    const parsed = SwitchMessage.safeParse(message);
    if (!parsed.success) {
      log.warn({ type: message.type }, 'ignored a malformed plugin switch from the bus');
      return;
    }
    if (parsed.data.from === self) return;
    apply(parsed.data.name, parsed.data.disabled).catch((error) =>
      log.warn({ err: error, plugin: parsed.data.name }, 'could not apply a plugin switch'),
    );
  });
  bus.onResync(() => {
    load().catch((error) => log.warn({ err: error }, 'could not read the plugin switches'));
  });

  return {
    load,
    async set(name, disabled, by) {
      await store.system.cluster.pluginSwitches.set(name, disabled, by);
      await apply(name, disabled);
      bus.publish({ type: 'plugin.switched', from: self, name, disabled });
    },
  };
}
