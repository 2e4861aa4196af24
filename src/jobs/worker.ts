import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { AppContext } from '../context.js';
import {
  DEFAULT_BACKOFF,
  PermanentJobError,
  claimJob,
  completeJob,
  failJob,
  heartbeatJob,
  releaseJob,
  type BackoffOptions,
  type ClaimedJob,
  type JobRegistry,
} from './queue.js';

/** How a worker claims and runs jobs. */
export interface WorkerOptions {
  /** Jobs run at once. */
  concurrency: number;
  /** How long a claim lasts without a heartbeat; a crashed worker's jobs wait this long. */
  leaseMs: number;
  /**
   * Interval between lease extensions; well under leaseMs, because a handler
   * that blocks the event loop (synchronous SQLite work) delays heartbeats too.
   */
  heartbeatMs: number;
  /** Sleep between claims when there is nothing to run. */
  pollMs: number;
  /** How long `stop()` waits for running handlers before releasing their jobs. */
  drainTimeoutMs: number;
  /** Retry backoff, unless the job type sets its own. */
  backoff: BackoffOptions;
  /** Names this worker in lease_owner; default host:pid:random. */
  workerId: string;
}

/** A running worker. */
export interface Worker {
  /** Graceful drain: stop claiming, abort handlers, wait, then release what is unfinished. */
  stop(): Promise<void>;
}

interface Running {
  job: ClaimedJob;
  controller: AbortController;
  heartbeat: NodeJS.Timeout;
  /** Set when stop() gave the job back; the handler's outcome is then ignored. */
  released: boolean;
  done: Promise<void>;
}

/**
 * Starts claiming and running jobs of the registry's types.
 *
 * Drain and release: `stop()` stops claiming and aborts every running handler's
 * signal at once. A handler that still finishes is completed as usual; one that
 * throws after the abort is released rather than failed (unless it threw
 * PermanentJobError); one still running after `drainTimeoutMs` is released and
 * whatever it does later is ignored (its writes are fenced on the lease owner).
 * Release sets the job back to queued with run_at = now, clears the lease and
 * decrements attempts, so a shutdown never uses up a retry and another worker
 * starts the job immediately instead of waiting out the lease.
 */
export function startWorker(ctx: AppContext, registry: JobRegistry, options: Partial<WorkerOptions> = {}): Worker {
  const leaseMs = options.leaseMs ?? 60_000;
  const opts: WorkerOptions = {
    concurrency: options.concurrency ?? ctx.config.workerConcurrency,
    leaseMs,
    heartbeatMs: options.heartbeatMs ?? Math.max(1, Math.floor(leaseMs / 4)),
    pollMs: options.pollMs ?? 1_000,
    drainTimeoutMs: options.drainTimeoutMs ?? 30_000,
    backoff: options.backoff ?? DEFAULT_BACKOFF,
    workerId: options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
  };
  if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) throw new Error('concurrency must be a positive integer');
  if (!(opts.heartbeatMs > 0 && opts.heartbeatMs < opts.leaseMs)) throw new Error('heartbeatMs must be between 0 and leaseMs');

  const { db } = ctx.database;
  const log = ctx.log.child({ worker: opts.workerId });
  const types = registry.types();
  const running = new Set<Running>();
  let claims = 0;
  let stopping = false;
  let wake: (() => void) | undefined;

  // Resolves after `ms`, or earlier when a job finishes or stop() is called.
  const nap = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(finish, ms);
      function finish(): void {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = finish;
    });

  const run = (job: ClaimedJob): void => {
    const jobLog = log.child({ job: { id: job.id, type: job.type, attempt: job.attempts } });
    const controller = new AbortController();
    const entry: Running = {
      job,
      controller,
      released: false,
      heartbeat: setInterval(() => {
        heartbeatJob(db, job, opts.leaseMs)
          .then((held) => {
            if (!held && !entry.released && !controller.signal.aborted) {
              // Someone else may be running it now; tell the handler to stop.
              jobLog.warn('lease lost; aborting the handler');
              controller.abort(new Error('job lease lost'));
            }
          })
          .catch((err: unknown) => jobLog.warn({ err }, 'heartbeat failed'));
      }, opts.heartbeatMs),
      done: Promise.resolve(),
    };
    running.add(entry);
    const registered = registry.get(job.type);
    const started = Date.now();
    entry.done = (async () => {
      try {
        if (registered === undefined) throw new Error(`no handler for job type "${job.type}"`);
        const result = await registered.run(job, { signal: controller.signal, log: jobLog, ctx });
        if (entry.released) return;
        if (await completeJob(db, job, result)) jobLog.debug({ ms: Date.now() - started }, 'job done');
        else jobLog.warn('job finished after its lease was lost; result discarded');
      } catch (err) {
        if (entry.released) return;
        if (registered === undefined || (stopping && controller.signal.aborted && !(err instanceof PermanentJobError))) {
          await releaseJob(db, job);
          jobLog.info('job released unfinished');
          return;
        }
        const type = registered.type;
        const backoff = { ...opts.backoff, ...type.options.backoff };
        const outcome = await failJob(db, job, err, { backoff });
        if (outcome.outcome === 'retry') {
          jobLog.warn({ err, retryAt: new Date(outcome.runAt).toISOString() }, 'job failed; will retry');
        } else if (outcome.outcome === 'failed') {
          jobLog.error({ err }, 'job failed for good');
        } else {
          jobLog.warn({ err }, 'job failed after its lease was lost');
        }
      }
    })()
      .catch((err: unknown) => jobLog.error({ err }, 'could not record the job outcome; it runs again when its lease expires'))
      .finally(() => {
        clearInterval(entry.heartbeat);
        running.delete(entry);
        wake?.();
      });
  };

  const loop = async (): Promise<void> => {
    while (!stopping) {
      if (running.size >= opts.concurrency) {
        await nap(opts.pollMs);
        continue;
      }
      let job: ClaimedJob | undefined;
      try {
        job = await claimJob(db, { owner: `${opts.workerId}#${++claims}`, leaseMs: opts.leaseMs, types });
      } catch (err) {
        log.error({ err }, 'claiming a job failed');
        await nap(opts.pollMs);
        continue;
      }
      if (job === undefined) {
        await nap(opts.pollMs);
        continue;
      }
      if (stopping) {
        await releaseJob(db, job);
        break;
      }
      // No sleep after a claim: while there is work and a free slot, claim again.
      run(job);
    }
  };
  const looping = loop().catch((err: unknown) => log.error({ err }, 'worker loop crashed'));
  log.info({ types, concurrency: opts.concurrency, leaseMs: opts.leaseMs }, 'worker started');

  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= (async () => {
        stopping = true;
        wake?.();
        await looping;
        for (const r of running) r.controller.abort(new Error('worker is stopping'));
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.allSettled([...running].map((r) => r.done)),
          new Promise<void>((resolve) => (timer = setTimeout(resolve, opts.drainTimeoutMs))),
        ]);
        clearTimeout(timer);
        for (const r of [...running]) {
          r.released = true;
          clearInterval(r.heartbeat);
          running.delete(r);
          try {
            await releaseJob(db, r.job);
            log.warn({ job: { id: r.job.id, type: r.job.type } }, 'handler did not finish in time; job released');
          } catch (err) {
            log.error({ err, job: { id: r.job.id } }, 'could not release a job; it runs again when its lease expires');
          }
        }
        log.info('worker stopped');
      })();
      return stopped;
    },
  };
}
