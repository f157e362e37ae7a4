// @parley/cli: the `parley` command. `main(argv, io)` runs it in process (tests use this).
export { main } from './cli.ts';
export type { Command } from './command.ts';
export { COMMANDS } from './commands/index.ts';
export { CliError, type Io, processIo } from './io.ts';
