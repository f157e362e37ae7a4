/*
 * A seccomp filter for sandboxed processes, as the classic BPF program the kernel takes
 * (bubblewrap loads it with --seccomp FD just before it runs the command). It refuses, with
 * EPERM, the system calls a plugin or an MCP program has no use for and that widen what a
 * process can reach from inside its namespaces: debugging other processes (ptrace,
 * process_vm_*), io_uring (a second syscall surface that filters cannot see into), loading
 * BPF or kernel modules, keyrings, mounts and new namespaces, and the like. Every other call
 * is allowed: the namespaces and the mounts are the boundary, this narrows the kernel surface.
 *
 * Layout: check the architecture (anything else is killed: a 32-bit or x32 syscall would
 * bypass the numbers below), then one `jeq nr` per refused call.
 */

/** Refused system calls, with their numbers on x86_64 and on aarch64 (asm-generic). */
const REFUSED: readonly (readonly [name: string, x86_64: number, aarch64: number])[] = [
  ['ptrace', 101, 117],
  ['process_vm_readv', 310, 270],
  ['process_vm_writev', 311, 271],
  ['pidfd_getfd', 438, 438],
  ['kcmp', 312, 272],
  ['io_uring_setup', 425, 425],
  ['io_uring_enter', 426, 426],
  ['io_uring_register', 427, 427],
  ['bpf', 321, 280],
  ['perf_event_open', 298, 241],
  ['userfaultfd', 323, 282],
  ['keyctl', 250, 219],
  ['add_key', 248, 217],
  ['request_key', 249, 218],
  ['kexec_load', 246, 104],
  ['kexec_file_load', 320, 294],
  ['init_module', 175, 105],
  ['finit_module', 313, 273],
  ['delete_module', 176, 106],
  ['mount', 165, 40],
  ['umount2', 166, 39],
  ['pivot_root', 155, 41],
  ['chroot', 161, 51],
  ['mount_setattr', 442, 442],
  ['move_mount', 429, 429],
  ['open_tree', 428, 428],
  ['fsopen', 430, 430],
  ['fsconfig', 431, 431],
  ['fsmount', 432, 432],
  ['fspick', 433, 433],
  ['unshare', 272, 97],
  ['setns', 308, 268],
  ['swapon', 167, 224],
  ['swapoff', 168, 225],
  ['reboot', 169, 142],
  ['acct', 163, 89],
  ['quotactl', 179, 60],
  ['open_by_handle_at', 304, 265],
  ['name_to_handle_at', 303, 264],
  ['fanotify_init', 300, 262],
  ['syslog', 103, 116],
  ['settimeofday', 164, 170],
  ['clock_settime', 227, 112],
  ['clock_adjtime', 305, 266],
  ['adjtimex', 159, 171],
  ['vhangup', 153, 58],
  ['personality', 135, 92],
];

/** The names of the refused calls (documented in docs/plugins/isolation.md, tested). */
export const REFUSED_SYSCALLS: readonly string[] = REFUSED.map(([name]) => name);

const ARCH = {
  x64: { audit: 0xc000003e, column: 1 },
  arm64: { audit: 0xc00000b7, column: 2 },
} as const;

// BPF opcodes (linux/bpf_common.h) and seccomp return values (linux/seccomp.h).
const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const RET_K = 0x06;
const RET_KILL_PROCESS = 0x80000000;
const RET_ERRNO_EPERM = 0x00050000 | 1;
const RET_ALLOW = 0x7fff0000;
/** seccomp_data offsets: nr at 0, arch at 4. */
const NR = 0;
const AUDIT_ARCH = 4;
/** x32 system calls on x86_64 have this bit set: refused outright. */
const X32_BIT = 0x40000000;

type Instruction = [code: number, jt: number, jf: number, k: number];

/** Whether this machine's architecture has a filter (x86_64 and aarch64). */
export function seccompSupported(arch: string = process.arch): boolean {
  return arch in ARCH;
}

/** The filter for `arch`, as the bytes of a `struct sock_filter[]` (8 bytes per instruction). */
export function seccompFilter(arch: string = process.arch): Buffer {
  const target = ARCH[arch as keyof typeof ARCH];
  if (!target) throw new Error(`no seccomp filter for the ${arch} architecture`);
  const program: Instruction[] = [
    [LD_W_ABS, 0, 0, AUDIT_ARCH],
    [JEQ_K, 1, 0, target.audit],
    [RET_K, 0, 0, RET_KILL_PROCESS],
    [LD_W_ABS, 0, 0, NR],
  ];
  if (arch === 'x64') program.push([JGE_K, 0, 1, X32_BIT], [RET_K, 0, 0, RET_ERRNO_EPERM]);
  for (const entry of REFUSED) {
    // Equal: fall through to the refusal; otherwise jump over it.
    program.push([JEQ_K, 0, 1, entry[target.column]], [RET_K, 0, 0, RET_ERRNO_EPERM]);
  }
  program.push([RET_K, 0, 0, RET_ALLOW]);
  const bytes = Buffer.alloc(program.length * 8);
  program.forEach(([code, jt, jf, k], i) => {
    bytes.writeUInt16LE(code, i * 8);
    bytes.writeUInt8(jt, i * 8 + 2);
    bytes.writeUInt8(jf, i * 8 + 3);
    bytes.writeUInt32LE(k, i * 8 + 4);
  });
  return bytes;
}
