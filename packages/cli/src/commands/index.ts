import type { Command } from '../command.ts';
import { channelsCommand } from './channels.ts';
import { chatCommand } from './chat.ts';
import { createCommand } from './create.ts';
import { deployCommand } from './deploy.ts';
import { doctorCommand } from './doctor.ts';
import { evalCommand } from './eval.ts';
import { importCommand } from './import.ts';
import { knowledgeCommand } from './knowledge.ts';
import { loginCommand } from './login.ts';
import { agentsCommand, secretsCommand, tokenCommand } from './manage.ts';
import { mcpCommand } from './mcp.ts';
import { migrateCommand } from './migrate.ts';
import { pluginCommand } from './plugin.ts';
import { runCommand } from './run.ts';
import { securityCommand } from './security.ts';
import { startCommand } from './start.ts';
import { trustCommand } from './trust.ts';

/** Every command, in the order `parley --help` lists them (the golden path first). */
export const COMMANDS: readonly Command[] = [
  createCommand,
  startCommand,
  chatCommand,
  runCommand,
  evalCommand,
  loginCommand,
  deployCommand,
  doctorCommand,
  tokenCommand,
  secretsCommand,
  agentsCommand,
  channelsCommand,
  securityCommand,
  trustCommand,
  mcpCommand,
  migrateCommand,
  importCommand,
  knowledgeCommand,
  pluginCommand,
];
