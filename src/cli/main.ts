import { Command, CommanderError } from 'commander';
import { ConfigError, loadDotEnv } from '../config.js';
import { backupCommand } from './commands/backup.js';
import { digestCommand } from './commands/digest.js';
import { harvestCommand } from './commands/harvest.js';
import { importCommand } from './commands/import.js';
import { migrateCommand } from './commands/migrate.js';
import { migrateDataCommand } from './commands/migrate-data.js';
import { reindexCommand } from './commands/reindex.js';
import { searchRunCommand } from './commands/search-run.js';
import { searchCommand } from './commands/search.js';
import { serveCommand } from './commands/serve.js';
import { tokenCommand, userCommand } from './commands/users.js';
import { UsageError } from './usage.js';

/** Builds the `paperboy` command tree. */
export function buildProgram(): Command {
  const program = new Command('paperboy')
    .description('Self-hostable research-paper hub: daily feeds, search and discussion of arXiv papers.')
    .showHelpAfterError()
    .exitOverride();
  program.addCommand(serveCommand());
  program.addCommand(importCommand());
  program.addCommand(harvestCommand());
  program.addCommand(migrateCommand());
  program.addCommand(migrateDataCommand());
  program.addCommand(searchCommand());
  program.addCommand(searchRunCommand());
  program.addCommand(reindexCommand());
  program.addCommand(backupCommand());
  program.addCommand(userCommand());
  program.addCommand(tokenCommand());
  program.addCommand(digestCommand());
  return program;
}

/** Runs the CLI and returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  loadDotEnv();
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof ConfigError || err instanceof UsageError) {
      process.stderr.write(`paperboy: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`paperboy: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}
