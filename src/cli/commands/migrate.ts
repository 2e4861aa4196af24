import { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { createContext } from '../../context.js';

export function migrateCommand(): Command {
  return new Command('migrate')
    .description('Apply pending database migrations (serve also does this at start).')
    .action(async () => {
      const ctx = createContext(loadConfig());
      const version = ctx.database.sqlite.prepare('SELECT max(version) FROM schema_migrations').pluck().get();
      process.stdout.write(`database ${ctx.config.databaseFile} is at schema version ${String(version)}\n`);
      await ctx.database.close();
    });
}
