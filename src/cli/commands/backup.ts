import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { createContext } from '../../context.js';
import { backupSqlite } from '../../db/backup.js';
import { UsageError } from '../usage.js';

export function backupCommand(): Command {
  return new Command('backup')
    .description('Copy the embedded SQLite database to PATH while the server runs (on PostgreSQL, use pg_dump).')
    .argument('<path>', 'the file to write; it must not exist')
    .action(async (path: string) => {
      const config = loadConfig();
      if (config.database.engine === 'postgres') {
        throw new UsageError('backup copies the embedded SQLite database; with DATABASE_URL set, use pg_dump -Fc (see README)');
      }
      const target = resolve(path);
      if (existsSync(target)) throw new UsageError(`${target} exists; backup never overwrites a file`);
      const ctx = await createContext(config);
      try {
        const started = Date.now();
        const { bytes } = await backupSqlite(ctx.database, target);
        process.stdout.write(`backed up ${ctx.database.description} to ${target}: ${(bytes / 1e6).toFixed(1)} MB in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      } finally {
        await ctx.database.close();
      }
    });
}
