import { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { createContext } from '../../context.js';
import { sqliteHandle } from '../../db/connection.js';

export function migrateCommand(): Command {
  return new Command('migrate')
    .description('Apply pending database migrations (serve also does this at start).')
    .action(async () => {
      const ctx = await createContext(loadConfig());
      const version = sqliteHandle(ctx.database).prepare('SELECT max(version) FROM schema_migrations').pluck().get();
      process.stdout.write(`database ${ctx.config.databaseFile} is at schema version ${String(version)}\n`);
      await ctx.database.close();
    });
}
