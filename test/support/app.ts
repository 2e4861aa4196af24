import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createContext, type AppContext } from '../../src/context.js';
import { openDatabase, type DatabaseLocation } from '../../src/db/connection.js';
import { copyTable, finishTarget, planCopy } from '../../src/db/copy.js';
import { migrate } from '../../src/db/migrate.js';
import { createScratchSchema } from '../../src/db/postgres.js';
import { applyCategoryRule } from '../../src/feeds/featuring.js';
import { importPaths } from '../../src/ingest/import.js';
import { createLogger } from '../../src/log.js';
import { embedAll } from '../../src/semantic/jobs.js';
import { warmVectorIndex } from '../../src/semantic/vector-index.js';
import { tempDataDir } from './cli.js';
import { envFor, freshLocation, instanceEnv, testEngine, testServerUrl } from './database.js';
import { sharedData } from './shared-data.js';

export interface TestApp {
  ctx: AppContext;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** An app on a fresh data directory, built in-process; `env` overrides configuration. */
export async function emptyApp(env: Record<string, string> = {}): Promise<TestApp> {
  const config = loadConfig({ ...(await instanceEnv()), HARVEST_ENABLED: 'false', ...env });
  const ctx = await createContext(config, createLogger('silent'));
  const app = await buildApp(ctx);
  return {
    ctx,
    app,
    async close() {
      await app.close();
      await ctx.database.close();
    },
  };
}

/**
 * An app with the real arXiv records of the shared data folder imported, the
 * default auto-feature rule applied and every paper embedded by the built-in
 * model, as `paperboy import` and the worker's first embed job leave an instance.
 */
export async function importedApp(env: Record<string, string> = {}): Promise<TestApp> {
  const template = await importedTemplate();
  if (template === null) {
    const testApp = await emptyApp(env);
    await importPaths(testApp.ctx.database, [join(sharedData().dir, 'arxiv')]);
    await applyCategoryRule(testApp.ctx.database, testApp.ctx.config.arxivCategories);
    await embedAll(testApp.ctx);
    await warmVectorIndex(testApp.ctx.database);
    return testApp;
  }
  const dataDir = tempDataDir();
  const location = await copyOf(template, dataDir);
  const config = loadConfig({ ...envFor(dataDir, location), HARVEST_ENABLED: 'false', ...env });
  const ctx = await createContext(config, createLogger('silent'));
  await applyCategoryRule(ctx.database, ctx.config.arxivCategories);
  const app = await buildApp(ctx);
  // As a server that has been up for a moment: `serve` starts this at once, and pages answer by keyword until it is done.
  await warmVectorIndex(ctx.database);
  return {
    ctx,
    app,
    async close() {
      await app.close();
      await ctx.database.close();
    },
  };
}

/**
 * The shared records imported once per test run and engine, which each
 * importedApp then copies: importing them took 7 s on SQLite and 12 s on
 * PostgreSQL, in some twenty test files per engine. The first file to ask
 * builds it (scripts/run-tests.js gives the run its PAPERBOY_TEST_CACHE_DIR);
 * null outside such a run, and the caller imports as before.
 */
async function importedTemplate(): Promise<DatabaseLocation | null> {
  const dir = process.env.PAPERBOY_TEST_CACHE_DIR;
  if (dir === undefined || dir === '') return null;
  const ready = join(dir, `imported-${testEngine}.json`);
  try {
    mkdirSync(join(dir, `imported-${testEngine}.lock`));
  } catch {
    // Another file builds it: wait for it (the import takes seconds).
    for (let waited = 0; waited < 120_000; waited += 100) {
      if (existsSync(ready)) return JSON.parse(readFileSync(ready, 'utf8')) as DatabaseLocation;
      await sleep(100);
    }
    return null;
  }
  const dataDir = join(dir, `imported-${testEngine}`);
  mkdirSync(dataDir);
  // Not a scratch schema of this file: it must outlive it, so it is named after the test runner
  // (alive for the whole run; a concurrent run must not take it for a dead file's), and
  // run-tests.js drops it after the run.
  const location: DatabaseLocation =
    testEngine === 'sqlite'
      ? { engine: 'sqlite', file: join(dataDir, 'paperboy.db') }
      : { engine: 'postgres', url: await createScratchSchema(testServerUrl, `t_${process.ppid}_imported`) };
  const database = openDatabase(location, { dataDir });
  try {
    await migrate(database);
    await importPaths(database, [join(sharedData().dir, 'arxiv')]);
    await embedAll({ config: loadConfig(envFor(dataDir, location)), log: createLogger('silent'), database });
  } finally {
    // Closing checkpoints SQLite's WAL into the file that is copied.
    await database.close();
  }
  writeFileSync(ready, JSON.stringify(location));
  return location;
}

/** A new database holding what `template` holds. */
async function copyOf(template: DatabaseLocation, dataDir: string): Promise<DatabaseLocation> {
  if (template.engine === 'sqlite') {
    const file = join(dataDir, 'paperboy.db');
    copyFileSync(template.file, file);
    return { engine: 'sqlite', file };
  }
  const location = await freshLocation(dataDir);
  const source = openDatabase(template, { dataDir: tempDataDir() });
  const target = openDatabase(location, { dataDir });
  try {
    await migrate(target);
    const plan = await planCopy(source, target);
    for (const table of plan.tables) await copyTable(source, target, table);
    await finishTarget(target, plan);
  } finally {
    await Promise.all([source.close(), target.close()]);
  }
  return location;
}
