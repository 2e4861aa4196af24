/**
 * The database engine the suite runs on. `npm test` runs every test file on
 * SQLite, then the files that use a database again on PostgreSQL with
 * PAPERBOY_TEST_ENGINE=postgres (scripts/run-tests.js). Tests get their
 * databases from here, so one test body covers both engines: on PostgreSQL
 * each database is a fresh schema of PAPERBOY_TEST_DATABASE_URL.
 */
import { join } from 'node:path';
import type { RawBuilder } from 'kysely';
import { after } from 'node:test';
import { openDatabase, type Database, type DatabaseLocation, type Engine } from '../../src/db/connection.js';
import { migrate } from '../../src/db/migrate.js';
import { createScratchSchema, dropScratchSchema } from '../../src/db/postgres.js';
import { tempDataDir } from './cli.js';

export const DEFAULT_TEST_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** The engine of this run of the suite. */
export const testEngine: Engine = process.env.PAPERBOY_TEST_ENGINE === 'postgres' ? 'postgres' : 'sqlite';

/** The PostgreSQL server (and database) test schemas are made in. */
export const testServerUrl = process.env.PAPERBOY_TEST_DATABASE_URL || DEFAULT_TEST_DATABASE_URL;
const serverUrl = testServerUrl;

let schemas = 0;
const created: string[] = [];
after(async () => {
  // Leftovers of a crashed run are dropped by the next run (scripts/run-tests.js).
  for (const schema of created.splice(0)) await dropScratchSchema(serverUrl, schema).catch(() => {});
});

/** A fresh, empty database location on the test engine; SQLite files go under `dataDir`. */
export async function freshLocation(dataDir: string = tempDataDir()): Promise<DatabaseLocation> {
  if (testEngine === 'sqlite') return { engine: 'sqlite', file: join(dataDir, 'paperboy.db') };
  const schema = `t_${process.pid}_${++schemas}_${Math.random().toString(36).slice(2, 8)}`;
  created.push(schema);
  return { engine: 'postgres', url: await createScratchSchema(serverUrl, schema) };
}

/**
 * Configuration variables for a fresh instance on the test engine: a new data
 * directory and, on PostgreSQL, DATABASE_URL naming a new schema. Pass them to
 * loadConfig or to a child `paperboy` process.
 */
export async function instanceEnv(dataDir: string = tempDataDir()): Promise<Record<string, string>> {
  return envFor(dataDir, await freshLocation(dataDir));
}

/** Configuration variables that point a `paperboy` process at an existing instance. */
export function envFor(dataDir: string, location: DatabaseLocation): Record<string, string> {
  // A fifth of the built-in model's default training: the tests check behaviour, not ranking quality, and fit often.
  const common = { PAPERBOY_DATA_DIR: dataDir, EMBEDDER_TRAINING_PAIRS: '30000' };
  return location.engine === 'postgres' ? { ...common, DATABASE_URL: location.url } : common;
}

/** A migrated, empty database on the test engine. */
export async function openTestDatabase(dataDir: string = tempDataDir()): Promise<Database> {
  const database = openDatabase(await freshLocation(dataDir), { dataDir });
  await migrate(database);
  return database;
}

/** Another connection to the same database (another process's view of it). */
export function reopen(database: Database): Database {
  return openDatabase(database.location, { dataDir: tempDataDir() });
}

/** The rows of a query written with Kysely's `sql` tag, on the test engine (for assertions and setup). */
export async function rows<T>(database: Database, query: RawBuilder<T>): Promise<T[]> {
  return (await query.execute(database.db)).rows;
}

/** The first column of the first row of a query, or undefined. */
export async function value<T>(database: Database, query: RawBuilder<unknown>): Promise<T | undefined> {
  const [first] = (await query.execute(database.db)).rows as Record<string, unknown>[];
  return first === undefined ? undefined : (Object.values(first)[0] as T);
}

/** Runs a statement written with Kysely's `sql` tag. */
export async function run(database: Database, statement: RawBuilder<unknown>): Promise<void> {
  await statement.execute(database.db);
}
