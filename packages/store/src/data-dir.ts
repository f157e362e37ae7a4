import { constants, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { StoreError } from './errors.ts';

/*
 * The embedded database's directory: created by the store, private to this user (0700),
 * and held by one process at a time (two PGlite instances on one directory corrupt it).
 */

export async function prepareDataDir(dir: string): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new StoreError(
      'store.data_dir_unsafe',
      `Cannot create the data directory ${dir}: ${(error as Error).message}`,
    );
  }
  const stat = await fs.stat(dir);
  if (!stat.isDirectory())
    throw new StoreError('store.data_dir_unsafe', `${dir} exists and is not a directory.`);
  if (process.getuid && stat.uid !== process.getuid()) {
    throw new StoreError(
      'store.data_dir_unsafe',
      `The data directory ${dir} belongs to another user (uid ${stat.uid}).`,
    );
  }
  // It holds the database and the master key file: nobody else may list or enter it.
  if ((stat.mode & 0o077) !== 0) await fs.chmod(dir, 0o700);
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
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, 'parley.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await fs.open(
        path,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
        0o600,
      );
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return async () => {
        await fs.rm(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number.parseInt(await fs.readFile(path, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
        throw new StoreError(
          'store.data_dir_locked',
          `The data directory ${dir} is in use by process ${pid}${pid === process.pid ? ' (this one: close the other store first)' : ''}. ` +
            'Only one process may open an embedded database; use PostgreSQL to share data between processes.',
          { details: { pid } },
        );
      }
      // A lock left by a process that is gone.
      await fs.rm(path, { force: true });
    }
  }
  throw new StoreError('store.data_dir_locked', `Could not lock the data directory ${dir}.`);
}
