import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import type { Config } from './config.js';
import { createContext, type AppContext } from './context.js';
import { catchUpKeywordIndex } from './db/keyword-index.js';
import { applyCategoryRule } from './feeds/featuring.js';
import { enqueue, jobSpec } from './jobs/queue.js';
import { digestJob, digestJobKey } from './papers/digest.js';
import { createRegistry } from './jobs/registry.js';
import { startScheduler } from './jobs/scheduler.js';
import { createSchedules } from './jobs/schedules.js';
import { startWorker } from './jobs/worker.js';
import { embedJobSpec } from './semantic/jobs.js';
import { warmVectorIndex } from './semantic/vector-index.js';

export const ROLES = ['web', 'worker', 'scheduler'] as const;
export type Role = (typeof ROLES)[number];

/** Something a role started that must be stopped on shutdown. */
interface Stoppable {
  stop(): Promise<void>;
}

export interface RunningServer {
  ctx: AppContext;
  app: FastifyInstance | undefined;
  /** Resolves once everything has stopped (after SIGTERM/SIGINT or `stop()`). */
  closed: Promise<void>;
  stop(): Promise<void>;
}

/**
 * The process shell: wires config, logger and database, starts the chosen
 * roles, and drains them on SIGTERM/SIGINT (web stops accepting, the worker
 * finishes or releases its jobs, then the database closes).
 */
export async function serve(config: Config, roles: ReadonlySet<Role>): Promise<RunningServer> {
  const ctx = await createContext(config);
  // Papers imported while no Paperboy process ran (or by an older version) get featured now.
  const { featured } = await applyCategoryRule(ctx.database, config.arxivCategories);
  if (featured > 0) ctx.log.info({ featured }, 'featured new announcements');
  // Summaries of papers imported since the last run are written in the background.
  await enqueue(ctx.database.db, jobSpec(digestJob, { sweep: false }, { uniqueKey: digestJobKey(false) }));
  // So are their vectors, and the first embedding model of a new instance.
  await enqueue(ctx.database.db, embedJobSpec('start'));
  const started: Stoppable[] = [];
  let app: FastifyInstance | undefined;

  if (roles.has('web')) {
    // In server mode this process's keyword index builds or catches up in the
    // background from now; /readyz says when it is in step.
    catchUpKeywordIndex(ctx.database).catch((err: unknown) => ctx.log.error({ err }, 'keyword index catch-up failed'));
    // So is its vector index: loaded from the newest saved file, or built from the stored vectors.
    void warmVectorIndex(ctx.database);
    app = await buildApp(ctx);
    await app.listen({ port: config.port, host: config.host });
    const web = app;
    started.push({ stop: () => web.close() });
  }
  if (roles.has('worker')) {
    started.push(startWorker(ctx, createRegistry(), { concurrency: config.workerConcurrency }));
  }
  if (roles.has('scheduler')) {
    started.push(startScheduler(ctx, createSchedules(config)));
  }

  let resolveClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      ctx.log.info('shutting down');
      for (const s of started.reverse()) {
        try {
          await s.stop();
        } catch (err) {
          ctx.log.error({ err }, 'error while stopping');
        }
      }
      await ctx.database.close();
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolveClosed();
    })();
    return stopping;
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    ctx.log.info({ signal }, 'signal received');
    void stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  ctx.log.info({ roles: [...roles], url: app ? config.baseUrl : undefined }, 'paperboy started');
  return { ctx, app, closed, stop };
}
