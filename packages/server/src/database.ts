import { randomBytes } from 'node:crypto';
import {
  type DatabaseDiagnosis,
  diagnoseStore,
  type IsolationReport,
  isStoreError,
  type OpenStoreOptions,
  openStore,
  type ProbeResult,
  probeDatabase,
} from '@parley/store';

/** A database URL as it may be shown (no password): the store's, for `parley doctor`. */
export { embeddedDatabaseDir, redactUrl } from '@parley/store';

import type { ServerConfig } from './config.ts';

/*
 * The server's database, as the server's configuration names it: the one mapping from a
 * ServerConfig to the store's options, used by startServer and by the CLI (`parley migrate`,
 * `parley doctor`), which reaches the database only through these functions.
 */

/** The store options a configuration means: PostgreSQL when it has a URL, else PGlite in the data directory. */
export function storeOptionsFor(config: ServerConfig): OpenStoreOptions {
  const common = {
    ...(config.masterKey ? { masterKey: config.masterKey } : {}),
    masterKeyFile: `${config.dataDir}/master.key`,
  };
  return config.databaseUrl
    ? {
        url: config.databaseUrl,
        ...(config.migrationDatabaseUrl ? { migrationUrl: config.migrationDatabaseUrl } : {}),
        requireEnforcedIsolation: false,
        ...common,
      }
    : { dataDir: config.dataDir, ...common };
}

export interface MigrationReport {
  /** The migrations this call applied, in order (empty: the schema was up to date). */
  applied: string[];
  isolation: IsolationReport;
}

/** Creates or upgrades the schema of the configured database, then closes it. */
export async function migrateDatabase(config: ServerConfig): Promise<MigrationReport> {
  const store = await openStore(storeOptionsFor(config));
  try {
    const { applied } = await store.migrate();
    return { applied, isolation: store.isolation };
  } finally {
    await store.close();
  }
}

export type EmbeddedDiagnosis =
  | { ok: true; diagnosis: DatabaseDiagnosis }
  /** `locked`: another process (a server) has it open. */
  | { ok: false; locked: boolean; message: string };

/**
 * Opens the embedded database of a data directory read-only in spirit (nothing is migrated or
 * written) and reports its version and schema state. A throw-away master key is used: the
 * vault is not touched and no key file is created.
 */
export async function diagnoseEmbeddedDatabase(dataDir: string): Promise<EmbeddedDiagnosis> {
  try {
    const store = await openStore({ dataDir, masterKey: randomBytes(32).toString('base64') });
    try {
      return { ok: true, diagnosis: await diagnoseStore(store) };
    } finally {
      await store.close();
    }
  } catch (error) {
    return {
      ok: false,
      locked: isStoreError(error, 'store.data_dir_locked'),
      message: (error as Error).message,
    };
  }
}

/** Probes a PostgreSQL URL read-only: version, role, privileges, schema state, pgvector. */
export function probePostgres(url: string, options: { timeoutMs: number }): Promise<ProbeResult> {
  return probeDatabase(url, options);
}

export type { DatabaseDiagnosis, ProbeResult };
