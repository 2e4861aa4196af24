import { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { createContext } from '../../context.js';
import { schemaStatus } from '../../db/migrate.js';

export function migrateCommand(): Command {
  return new Command('migrate')
    .description('Apply pending database migrations (serve also does this at start).')
    .action(async () => {
      const ctx = await createContext(loadConfig());
      const { current } = await schemaStatus(ctx.database);
      process.stdout.write(`database ${ctx.database.description} is at schema version ${current}\n`);
      await ctx.database.close();
    });
}
