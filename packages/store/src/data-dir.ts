import {
  chmodSync,
  closeSync,
  constants,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreError } from './errors.ts';

/*
 * The embedded database's directory: created by the store, private to this user (0700),
 * and held by one process at a time (two PGlite instances on one directory corrupt it).
 *
 * Synchronous on purpose: this runs at start-up, while the server's main thread loads its
 * modules, and the embedded database's worker starts only after it. A few microseconds of
 * blocking file calls; as promises, each waited behind the module loading (~330 ms measured
 * between asking and the worker's start).
 */

/** Where PGlite keeps its database inside a data directory (absent until a first start creates it). */
export function embeddedDatabaseDir(dataDir: string): string {
  return join(dataDir, 'pgdata');
}

export function prepareDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new StoreError(
      'store.data_dir_unsafe',
      `Cannot create the data directory ${dir}: ${(error as Error).message}`,
    );
  }
  const stat = statSync(dir);
  if (!stat.isDirectory())
    throw new StoreError('store.data_dir_unsafe', `${dir} exists and is not a directory.`);
  if (process.getuid && stat.uid !== process.getuid()) {
    throw new StoreError(
      'store.data_dir_unsafe',
      `The data directory ${dir} belongs to another user (uid ${stat.uid}).`,
    );
  }
  // It holds the database and the master key file: nobody else may list or enter it.
  if ((stat.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes `<dir>/parley.lock`; returns its release function. */
export function lockDataDir(dir: string): () => Promise<void> {
  const path = join(dir, 'parley.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      return () => rm(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number.parseInt(readOr(path, ''), 10);
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
        throw new StoreError(
          'store.data_dir_locked',
          `The data directory ${dir} is in use by process ${pid}${pid === process.pid ? ' (this one: close the other store first)' : ''}. ` +
            'Only one process may open an embedded database; use PostgreSQL to share data between processes.',
          { details: { pid } },
        );
      }
      // A lock left by a process that is gone.
      rmSync(path, { force: true });
    }
  }
  throw new StoreError('store.data_dir_locked', `Could not lock the data directory ${dir}.`);
}
