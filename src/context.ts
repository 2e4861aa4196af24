import { mkdirSync } from 'node:fs';
import type { Config } from './config.js';
import { openDatabase, type Database } from './db/connection.js';
import { migrate } from './db/migrate.js';
import { createLogger, type Logger } from './log.js';

/** What every role and command works with: validated config, logger, migrated database. */
export interface AppContext {
  config: Config;
  log: Logger;
  database: Database;
}

/** Opens the data directory and database (SQLite file or PostgreSQL) and applies pending migrations. */
export async function createContext(
  config: Config,
  log: Logger = createLogger(config.logLevel, 'paperboy', config.logFormat),
): Promise<AppContext> {
  mkdirSync(config.dataDir, { recursive: true });
  const database = openDatabase(config.database, { dataDir: config.dataDir });
  try {
    const { applied } = await migrate(database);
    for (const m of applied) log.info({ migration: m }, 'applied migration');
  } catch (err) {
    await database.close();
    throw err;
  }
  return { config, log, database };
}
