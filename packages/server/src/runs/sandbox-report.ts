import { osSandboxStatus } from '@parley/sandbox';

/*
 * Which sandbox holds community plugins and stdio MCP programs on this server, in words an
 * operator acts on: `parley doctor` prints it, and the server logs the weak mode at every start.
 */

export interface SandboxReport {
  /** `os`: the OS sandbox; `weak`: PARLEY_SANDBOX=weak; `refused`: they will not run here. */
  holds: 'os' | 'weak' | 'refused';
  detail: string;
  fix?: string;
}

export const WEAK_MODE_WARNING =
  "PARLEY_SANDBOX=weak: community plugins and stdio MCP programs run under Node's permission model alone, a seat belt for trusted code and not a boundary against hostile code (docs/plugins/isolation.md)";

export function sandboxReport(mode: 'os' | 'weak'): SandboxReport {
  const status = osSandboxStatus();
  if (mode === 'weak')
    return {
      holds: 'weak',
      detail: WEAK_MODE_WARNING,
      fix: status.available
        ? 'This host can run the OS sandbox: unset PARLEY_SANDBOX.'
        : `The OS sandbox is not available here (${status.reason}); run community plugins only if you trust their authors.`,
    };
  if (status.available)
    return {
      holds: 'os',
      detail: `the OS sandbox (${status.version}: namespaces, seccomp, limits by ${status.limits}${status.hostUser === 'nobody' ? ', as nobody where the paths allow' : ''})`,
    };
  return {
    holds: 'refused',
    detail: `community plugins and stdio MCP servers are refused: ${status.reason}`,
    fix: 'Install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; user namespaces must be allowed), or set PARLEY_SANDBOX=weak to accept the weaker mode knowingly.',
  };
}
