import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type CgroupLimits, createCgroup } from './cgroup.ts';
import { seccompFilter, seccompSupported } from './seccomp.ts';

/*
 * The OS-level sandbox for code Parley runs on its host but does not trust (community plugins,
 * stdio MCP programs): Debian's bubblewrap (bwrap), the namespace tool Flatpak is built on. It
 * is chosen over hand-made `unshare` calls because it sets up the mount namespace from an
 * empty root (nothing is visible that is not bound in), brings loopback up in the new network
 * namespace, runs a reaping PID 1, sets no_new_privs, drops capabilities, forbids further user
 * namespaces and loads a seccomp filter, all in one audited setuid-free binary; and over
 * nsjail/firejail because it is small, packaged everywhere Flatpak is, and has no policy
 * language of its own to get wrong.
 *
 * A jailed process gets its own user, mount, PID, IPC, UTS, cgroup and network namespaces; a
 * root made of read-only binds of the system's runtime (/usr, the library links, a few files
 * of /etc), the Node runtime, and exactly the paths its caller lists; a private /proc, /dev
 * and a small /tmp; no host Unix socket but the egress proxy's; the seccomp filter of
 * ./seccomp.ts; and memory, process, CPU-time and file-size limits (./cgroup.ts, rlimits).
 */

export interface JailLimits {
  /** Memory for all its processes (cgroup), or its data segment per process (rlimit). */
  memoryMb: number;
  /** CPU seconds per process over its life (RLIMIT_CPU): past it the process is killed. */
  cpuSeconds: number;
  /** Processes and threads at once (cgroup pids, else RLIMIT_NPROC). */
  processes: number;
  /** Largest file it may write (RLIMIT_FSIZE). */
  fileMb: number;
}

export const DEFAULT_LIMITS: JailLimits = {
  memoryMb: 512,
  cpuSeconds: 600,
  processes: 128,
  fileMb: 64,
};

export interface JailOptions {
  command: string;
  args: readonly string[];
  /** Working directory inside the jail (bound read-only unless it is in `write`). */
  cwd: string;
  /** Host paths visible read-only, at the same place. */
  read: readonly string[];
  /** Host paths visible read-write, at the same place. */
  write?: readonly string[];
  /**
   * Host paths the jail alone may use (the egress proxy's socket directory), visible read-only:
   * handed to its host user when it has one of its own (a Unix socket on a read-only mount
   * still takes connections).
   */
  own?: readonly string[];
  limits?: Partial<JailLimits>;
}

export interface Jail {
  command: string;
  args: string[];
  /** The host user it runs as when that is not the server's (a root server's jails: nobody). */
  hostUid: number | undefined;
  /** Removes what the jail made on the host (its cgroup); call once its process has exited. */
  release(): void;
}

export interface OsSandboxStatus {
  available: boolean;
  /** Why not, when it is not (what the operator can do about it). */
  reason?: string;
  bwrap?: string;
  version?: string;
  /** Processes run as an unprivileged host user (nobody) when the server is root. */
  hostUser?: 'nobody' | 'server';
  /** Where memory and process limits come from. */
  limits?: 'cgroup' | 'rlimit';
}

/** The host user a root server's jails run as, when every bound path is open to it. */
const NOBODY = 65534;
/** bwrap reads the seccomp filter from this descriptor (opened by the wrapping shell). */
const SECCOMP_FD = 9;

const BWRAP_PATHS = ['/usr/bin/bwrap', '/bin/bwrap', '/usr/local/bin/bwrap'];
const ETC_FILES = [
  '/etc/alternatives',
  '/etc/ssl',
  '/etc/ca-certificates',
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/localtime',
  '/etc/nsswitch.conf',
  '/etc/mime.types',
];
const ROOT_LINKS = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/** The Node runtime's installation (its bin/ and lib/), which every jail may read. */
export function nodeRuntimeDir(): string {
  return dirname(dirname(realpathSync(process.execPath)));
}

let filterPath: string | undefined;
/** The seccomp filter, written once per process into a private directory. */
function seccompFile(): string {
  if (filterPath && existsSync(filterPath)) return filterPath;
  const dir = mkdtempSync(join(tmpdir(), 'parley-seccomp-'));
  chmodSync(dir, 0o755);
  filterPath = join(dir, 'filter.bpf');
  writeFileSync(filterPath, seccompFilter(), { mode: 0o644, flag: 'wx' });
  return filterPath;
}

/** Whether a host user other than the owner can reach `path` (every directory above is o+x). */
function openToOthers(path: string): boolean {
  try {
    const stat = statSync(path);
    if (!(stat.mode & (stat.isDirectory() ? 0o005 : 0o004))) return false;
    for (let dir = dirname(path); ; dir = dirname(dir)) {
      if (!(statSync(dir).mode & 0o001)) return false;
      if (dir === dirname(dir)) return true;
    }
  } catch {
    return false;
  }
}

/** Gives a path (and what a directory holds) to the jail's host user. */
function handOver(path: string, uid: number) {
  chownSync(path, uid, uid);
  if (statSync(path).isDirectory())
    for (const name of readdirSync(path)) chownSync(join(path, name), uid, uid);
}

/** The system part of the jail's root: /usr, the merged-/usr links, the parts of /etc programs need. */
function systemBinds(): string[] {
  const args = ['--ro-bind', '/usr', '/usr'];
  for (const link of ROOT_LINKS) {
    if (!existsSync(link)) continue;
    if (lstatSync(link).isSymbolicLink()) args.push('--symlink', readlinkSync(link), link);
    else args.push('--ro-bind', link, link);
  }
  for (const path of ETC_FILES) if (existsSync(path)) args.push('--ro-bind', path, path);
  return args;
}

/** The bwrap arguments for `options`, without the command. */
function bwrapArgs(options: JailOptions, uid: number): string[] {
  const binds = (flag: string, paths: readonly string[]) =>
    paths.flatMap((path) => [flag, path, path]);
  const tmpBytes = Math.min(64, options.limits?.fileMb ?? DEFAULT_LIMITS.fileMb) * 1024 * 1024;
  return [
    '--unshare-user',
    '--unshare-ipc',
    '--unshare-pid',
    '--unshare-net',
    '--unshare-uts',
    '--unshare-cgroup-try',
    '--disable-userns',
    '--die-with-parent',
    '--new-session',
    '--cap-drop',
    'ALL',
    '--uid',
    String(uid),
    '--gid',
    String(uid),
    '--hostname',
    'parley-sandbox',
    ...systemBinds(),
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--size',
    String(tmpBytes),
    '--tmpfs',
    '/tmp',
    ...binds('--ro-bind', [nodeRuntimeDir(), ...options.read, ...(options.own ?? [])]),
    ...binds('--bind', options.write ?? []),
    '--chdir',
    options.cwd,
    '--seccomp',
    String(SECCOMP_FD),
    '--',
  ];
}

function rlimitArgs(limits: JailLimits, cgroup: CgroupLimits | undefined, dropUid: boolean) {
  return [
    `--cpu=${limits.cpuSeconds}`,
    `--fsize=${limits.fileMb * 1024 * 1024}`,
    '--core=0',
    '--nofile=1024',
    // Without a cgroup: a per-process data limit (V8 reserves ~600 MB of address space it
    // never fills, so the limit is that plus the budget) and, for a user of its own, NPROC.
    ...(cgroup?.memory ? [] : [`--data=${(limits.memoryMb + 640) * 1024 * 1024}`]),
    ...(cgroup?.pids || !dropUid ? [] : [`--nproc=${limits.processes * 4}`]),
  ];
}

const probed = new Map<string, OsSandboxStatus>();

/**
 * Whether this host can run the OS sandbox: bwrap present and a full jail starts. Probed once
 * per bwrap: PARLEY_BWRAP names it where it is not in /usr/bin, /bin or /usr/local/bin.
 */
export function osSandboxStatus(bwrap = process.env.PARLEY_BWRAP): OsSandboxStatus {
  const key = bwrap ?? '';
  let status = probed.get(key);
  if (!status) {
    status = probe(bwrap);
    probed.set(key, status);
  }
  return status;
}

function probe(named: string | undefined): OsSandboxStatus {
  if (process.platform !== 'linux')
    return { available: false, reason: `bubblewrap needs Linux (this is ${process.platform})` };
  if (!seccompSupported())
    return { available: false, reason: `no seccomp filter for ${process.arch}` };
  const bwrap = named ?? BWRAP_PATHS.find((path) => existsSync(path));
  if (!bwrap || !existsSync(bwrap))
    return {
      available: false,
      reason: named
        ? `PARLEY_BWRAP names ${named}, which does not exist`
        : 'bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)',
    };
  const version = spawnSync(bwrap, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const jail = createJail(
    { command: process.execPath, args: ['-e', ''], cwd: '/', read: [] },
    bwrap,
  );
  const run = spawnSync(jail.command, jail.args, { encoding: 'utf8', timeout: 10_000, env: {} });
  jail.release();
  if (run.status !== 0) {
    const why = (run.stderr || run.error?.message || `exit ${run.status}`).trim().slice(0, 300);
    return {
      available: false,
      bwrap,
      version,
      reason: `bubblewrap cannot create a sandbox here (${why}): user namespaces may be disabled (kernel.unprivileged_userns_clone, or an AppArmor policy)`,
    };
  }
  const cgroup = createCgroup(DEFAULT_LIMITS);
  cgroup?.release();
  return {
    available: true,
    bwrap,
    version,
    hostUser: process.getuid?.() === 0 ? 'nobody' : 'server',
    limits: cgroup?.memory ? 'cgroup' : 'rlimit',
  };
}

/**
 * The command line that runs `options.command` jailed: a shell that joins the jail's cgroup,
 * sets its rlimits, opens the seccomp filter and execs bwrap. The caller's environment passes
 * through unchanged (callers build it from nothing), and no secret is ever on a command line.
 */
export function createJail(options: JailOptions, bwrap = osSandboxStatus().bwrap): Jail {
  if (!bwrap) throw new Error('the OS sandbox is not available on this host');
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const paths = [nodeRuntimeDir(), options.cwd, ...options.read, ...(options.write ?? [])];
  // A root server runs its jails as nobody when nobody can reach what they need: an escape
  // from the namespaces then lands as a user that owns nothing. Writable paths stay the
  // server's user's (nobody could not write them).
  const dropUid =
    process.getuid?.() === 0 && (options.write ?? []).length === 0 && paths.every(openToOthers);
  for (const path of dropUid ? (options.own ?? []) : []) handOver(path, NOBODY);
  const cgroup = createCgroup(limits);
  const prelude = cgroup?.procs.map((file) => `echo $$ > '${file}'`).join(' && ') ?? 'true';
  const setpriv = dropUid
    ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--']
    : [];
  return {
    command: '/bin/sh',
    args: [
      '-c',
      `${prelude} && exec "$@" ${SECCOMP_FD}<"$0"`,
      seccompFile(),
      'prlimit',
      ...rlimitArgs(limits, cgroup, dropUid),
      '--',
      ...setpriv,
      bwrap,
      ...bwrapArgs(options, NOBODY),
      options.command,
      ...options.args,
    ],
    hostUid: dropUid ? NOBODY : undefined,
    release: () => cgroup?.release(),
  };
}
