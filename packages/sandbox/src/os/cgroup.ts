import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * Memory, process and CPU limits for one jail, as a control group of its own under the
 * server's (cgroup v2, or the v1 memory/pids/cpu hierarchies where the host still mounts
 * those). A limit the host does not let us set is left to the jail's rlimits (./bubblewrap.ts).
 * The jail's shell joins the group (writes its pid to each `cgroup.procs`) before it execs
 * bwrap, so nothing it starts escapes it.
 */

export interface CgroupLimits {
  /** The `cgroup.procs` files the jail's shell writes its pid to. */
  procs: string[];
  memory: boolean;
  pids: boolean;
  release(): void;
}

const ROOT = '/sys/fs/cgroup';
let counter = 0;

/** Where the kernel tells a process about its control groups (a test points elsewhere). */
export interface CgroupPaths {
  /** `/proc/self/cgroup`. */
  self: string;
  /** The cgroup file systems' mount point, `/sys/fs/cgroup`. */
  root: string;
}

const SYSTEM: CgroupPaths = { self: '/proc/self/cgroup', root: ROOT };

/** This process's cgroup path per controller ('' is the v2 unified hierarchy). */
function ownGroups(self = SYSTEM.self): Map<string, string> {
  const groups = new Map<string, string>();
  try {
    for (const line of readFileSync(self, 'utf8').split('\n')) {
      const [, controllers, path] = line.split(':');
      if (path === undefined) continue;
      for (const name of (controllers ?? '').split(',')) groups.set(name, path);
    }
  } catch {}
  return groups;
}

/** cgroup v1 writes "no limit" as a page-rounded 2^63 − 1; anything this large is none. */
const UNLIMITED_V1 = 2 ** 60;

function readLimit(file: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch {
    return undefined; // not this layout, or not this level
  }
  const bytes = Number(text); // v2's "max" is NaN: no limit
  return Number.isFinite(bytes) && bytes < UNLIMITED_V1 ? bytes : undefined;
}

/** A group's limit file there and in every group above it, up to the mount point. */
function upwards(mount: string, path: string, file: string): string[] {
  const parts = path.split('/').filter(Boolean);
  return parts.map((_, i) => join(mount, ...parts.slice(0, i + 1), file)).concat(join(mount, file));
}

/**
 * The memory this process may use under its control groups (cgroup v2, or v1's memory
 * controller), in bytes: the smallest limit on its group or any group above it, or undefined
 * when none is set or there are no cgroups (not Linux). A container sees its own group at the
 * mount point, so that level is read too.
 */
export function memoryLimit(paths: CgroupPaths = SYSTEM): number | undefined {
  const groups = ownGroups(paths.self);
  const v2 = groups.get('');
  const v1 = groups.get('memory');
  const files = [
    ...(v2 === undefined ? [] : upwards(paths.root, v2, 'memory.max')),
    ...(v1 === undefined ? [] : upwards(join(paths.root, 'memory'), v1, 'memory.limit_in_bytes')),
  ];
  const limits = files.map(readLimit).filter((limit) => limit !== undefined);
  return limits.length > 0 ? Math.min(...limits) : undefined;
}

function tryWrite(file: string, value: string): boolean {
  try {
    writeFileSync(file, value);
    return true;
  } catch {
    return false;
  }
}

function tryMkdir(dir: string): boolean {
  try {
    mkdirSync(dir);
    return true;
  } catch {
    return false;
  }
}

export function createCgroup(limits: {
  memoryMb: number;
  processes: number;
}): CgroupLimits | undefined {
  if (process.platform !== 'linux') return undefined;
  const groups = ownGroups();
  const name = `parley-sandbox-${process.pid}-${++counter}`;
  const dirs: string[] = [];
  const made = { memory: false, pids: false };
  const bytes = String(limits.memoryMb * 1024 * 1024);
  if (existsSync(join(ROOT, 'cgroup.controllers'))) {
    const dir = join(ROOT, groups.get('') ?? '/', name);
    if (tryMkdir(dir)) {
      dirs.push(dir);
      made.memory = tryWrite(join(dir, 'memory.max'), bytes);
      tryWrite(join(dir, 'memory.swap.max'), '0');
      made.pids = tryWrite(join(dir, 'pids.max'), String(limits.processes));
      tryWrite(join(dir, 'cpu.max'), '100000 100000');
    }
  } else {
    const v1 = (controller: string, settings: Record<string, string>) => {
      const path = groups.get(controller);
      const dir = join(ROOT, controller, path ?? '/', name);
      if (path === undefined || !tryMkdir(dir)) return false;
      dirs.push(dir);
      return Object.entries(settings).every(([file, value]) => tryWrite(join(dir, file), value));
    };
    made.memory = v1('memory', { 'memory.limit_in_bytes': bytes });
    made.pids = v1('pids', { 'pids.max': String(limits.processes) });
    v1('cpu', { 'cpu.cfs_period_us': '100000', 'cpu.cfs_quota_us': '100000' });
  }
  if (dirs.length === 0) return undefined;
  return {
    procs: dirs.map((dir) => join(dir, 'cgroup.procs')),
    ...made,
    release() {
      for (const dir of dirs)
        try {
          rmdirSync(dir);
        } catch {
          // Still has a process in it (it is being killed): the kernel frees it when empty.
        }
    },
  };
}
