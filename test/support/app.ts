import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createContext, type AppContext } from '../../src/context.js';
import { applyCategoryRule } from '../../src/feeds/featuring.js';
import { importPaths } from '../../src/ingest/import.js';
import { createLogger } from '../../src/log.js';
import { instanceEnv } from './database.js';
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
 * An app with the real arXiv records of the shared data folder imported and the
 * default auto-feature rule applied, as `paperboy import` leaves an instance.
 */
export async function importedApp(env: Record<string, string> = {}): Promise<TestApp> {
  const testApp = await emptyApp(env);
  await importPaths(testApp.ctx.database, [join(sharedData().dir, 'arxiv')]);
  await applyCategoryRule(testApp.ctx.database, testApp.ctx.config.arxivCategories);
  return testApp;
}
