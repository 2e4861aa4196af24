import type { AppContext } from '../context.js';
import { schedulerLock } from '../db/scheduler-lock.js';
import { enqueue, type JobSpec } from './queue.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** How often a schedule comes due: every `everyMs` (aligned to the epoch), or daily at an hour (UTC). */
export type Cadence = { everyMs: number; dailyAtUtcHour?: undefined } | { dailyAtUtcHour: number; everyMs?: undefined };

/**
 * A periodic job. `enqueue` gets the start of the period that is due and
 * returns the job for it; without a uniqueKey the scheduler uses
 * `name:periodKey`, so the period's job is created once however many
 * schedulers run.
 */
export type Schedule = Cadence & {
  name: string;
  enqueue(due: Date): JobSpec;
};

/** A running scheduler. */
export interface Scheduler {
  /** Whether this scheduler led at its last tick (on SQLite every scheduler leads). */
  isLeader(): boolean;
  /** Stops ticking and gives up the lead; resolves once an in-flight tick has finished. */
  stop(): Promise<void>;
}

/** Options for `startScheduler`. */
export interface SchedulerOptions {
  /** Longest sleep between ticks; a tick also happens right when a period starts. */
  tickMs: number;
  /** How often a scheduler that does not lead tries to take the lead (failover time after the leader dies). */
  standbyMs: number;
}

function validate(cadence: Cadence): void {
  if (cadence.everyMs !== undefined) {
    if (!Number.isInteger(cadence.everyMs) || cadence.everyMs <= 0) throw new Error('everyMs must be a positive integer');
  } else if (!Number.isInteger(cadence.dailyAtUtcHour) || cadence.dailyAtUtcHour < 0 || cadence.dailyAtUtcHour > 23) {
    throw new Error('dailyAtUtcHour must be an integer from 0 to 23');
  }
}

/** The start of the period containing `now`: the latest due time at or before it. */
export function lastRunAt(cadence: Cadence, now: Date): Date {
  validate(cadence);
  const t = now.getTime();
  if (cadence.everyMs !== undefined) return new Date(Math.floor(t / cadence.everyMs) * cadence.everyMs);
  const today = Math.floor(t / DAY_MS) * DAY_MS + cadence.dailyAtUtcHour * HOUR_MS;
  return new Date(today <= t ? today : today - DAY_MS);
}

/** The first due time strictly after `now`. */
export function nextRunAt(cadence: Cadence, now: Date): Date {
  const last = lastRunAt(cadence, now).getTime();
  return new Date(last + (cadence.everyMs ?? DAY_MS));
}

/** Names a period in unique keys: the UTC date for daily schedules, the ISO start time otherwise. */
export function periodKey(cadence: Cadence, due: Date): string {
  return cadence.everyMs === undefined ? due.toISOString().slice(0, 10) : due.toISOString();
}

/**
 * Enqueues each schedule's job for the current period, on start and then on
 * every tick. A period missed while no scheduler ran is caught up once, on
 * the next tick; older missed periods are not replayed.
 *
 * Only the instance's leading scheduler enqueues (src/db/scheduler-lock.ts);
 * the others check every `standbyMs` whether the lead is free, and the one
 * that takes it catches the current periods up at once.
 */
export function startScheduler(ctx: AppContext, schedules: readonly Schedule[], options: Partial<SchedulerOptions> = {}): Scheduler {
  const tickMs = options.tickMs ?? 30_000;
  const standbyMs = options.standbyMs ?? 5_000;
  const names = new Set<string>();
  for (const s of schedules) {
    validate(s);
    if (names.has(s.name)) throw new Error(`duplicate schedule name "${s.name}"`);
    names.add(s.name);
  }
  const log = ctx.log.child({ component: 'scheduler' });
  const lock = schedulerLock(ctx.database);
  let leading = false;
  // Keys this process already enqueued: saves a write per schedule per tick.
  const enqueued = new Map<string, string>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let ticking: Promise<void> = Promise.resolve();

  const tick = async (): Promise<void> => {
    const leads = await lock.hold();
    if (leads !== leading) {
      leading = leads;
      if (leads) log.info('scheduler leads: enqueueing periodic jobs');
      else log.info('another scheduler leads: standing by');
      // Another leader may have enqueued (and the prune removed) periods meanwhile.
      enqueued.clear();
    }
    if (!leads) return;
    const now = new Date();
    for (const s of schedules) {
      try {
        const due = lastRunAt(s, now);
        const spec = s.enqueue(due);
        const uniqueKey = spec.uniqueKey ?? `${s.name}:${periodKey(s, due)}`;
        if (enqueued.get(s.name) === uniqueKey) continue;
        const { id, created } = await enqueue(ctx.database.db, { ...spec, uniqueKey });
        enqueued.set(s.name, uniqueKey);
        if (created) log.info({ schedule: s.name, job: id, uniqueKey }, 'scheduled job enqueued');
      } catch (err) {
        log.error({ err, schedule: s.name }, 'could not enqueue scheduled job');
      }
    }
  };

  const plan = (): void => {
    if (stopped) return;
    const now = new Date();
    const soonest = leading
      ? Math.min(...schedules.map((s) => nextRunAt(s, now).getTime()), now.getTime() + tickMs)
      : now.getTime() + standbyMs;
    timer = setTimeout(() => {
      ticking = tick().finally(plan);
    }, Math.max(0, soonest - now.getTime()));
  };
  ticking = tick().finally(plan);
  log.info({ schedules: schedules.map((s) => s.name) }, 'scheduler started');

  return {
    isLeader: () => leading,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await ticking;
      clearTimeout(timer);
      leading = false;
      await lock.release();
    },
  };
}
