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

/** Opens the data directory and database and applies pending migrations. */
export function createContext(config: Config, log: Logger = createLogger(config.logLevel)): AppContext {
  mkdirSync(config.dataDir, { recursive: true });
  const database = openDatabase(config.databaseFile);
  const { applied } = migrate(database.sqlite);
  for (const m of applied) log.info({ migration: m }, 'applied migration');
  return { config, log, database };
}
