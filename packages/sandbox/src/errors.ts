import { CoreError } from '@parley/core';

/** The plugin's process could not be started (bad entry, it crashed or hung while loading). */
export class SandboxStartError extends CoreError {
  override readonly name = 'SandboxStartError';
  constructor(message: string) {
    super('plugin.start_failed', message);
  }
}

/** The plugin's process exited during a tool call; it has been restarted for the next call. */
export class PluginCrashedError extends CoreError {
  override readonly name = 'PluginCrashedError';
  readonly plugin: string;
  constructor(plugin: string, tool: string, how: string, stderr: string) {
    const last = stderr.trim().split('\n').filter(Boolean).slice(-3).join(' | ');
    super(
      'plugin.crashed',
      `the process of plugin ${plugin} exited (${how}) during a call of ${tool}; it was restarted${last ? `. Its last output: ${last.slice(0, 500)}` : ''}`,
    );
    this.plugin = plugin;
  }
}
