import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { PluginLogEntry } from '@parley/core';
import type { SandboxAuditEvent, SandboxManifest } from './sandboxed-plugin-types.ts';

/*
 * The child's reports on fd 3, one JSON object a line: its manifest once started, the end of
 * each call, denied accesses, secret reads and log lines. Lines that are not JSON are ignored.
 */

export interface ReportHandlers {
  announce(m: { plugin: SandboxManifest; tools: string[] }): void;
  /** All reports of this call were sent before this one. */
  callEnded(call: string): void;
  audit(event: Omit<SandboxAuditEvent, 'plugin'>, running: readonly string[]): void;
  log(entry: Omit<PluginLogEntry, 'plugin'> & { data?: unknown; hasData: boolean }): void;
}

export function readChildReports(child: ChildProcess, on: ReportHandlers): void {
  const reports = child.stdio[3];
  if (!reports || !('on' in reports)) return;
  createInterface({ input: reports as NodeJS.ReadableStream }).on('line', (line) => {
    let report: Record<string, unknown>;
    try {
      report = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const resource = String(report.resource ?? '').slice(0, 500);
    const running = Array.isArray(report.calls) ? report.calls.map(String) : [];
    if (report.type === 'manifest') on.announce(report as never);
    else if (report.type === 'call_end') on.callEnded(String(report.call));
    else if (report.type === 'denied')
      on.audit(
        {
          action: 'plugin.permission_denied',
          kind: report.kind as SandboxAuditEvent['kind'],
          resource,
        },
        running,
      );
    else if (report.type === 'secret_read')
      on.audit({ action: 'plugin.secret_read', kind: 'secret', resource }, running);
    else if (report.type === 'log')
      on.log({
        level: (['info', 'warn', 'error'] as const).find((l) => l === report.level) ?? 'info',
        message: String(report.message ?? ''),
        data: report.data,
        hasData: report.data !== undefined,
      });
  });
}
