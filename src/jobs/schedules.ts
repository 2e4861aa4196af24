import { harvestSchedules } from '../arxiv/jobs.js';
import type { Config } from '../config.js';
import { digestSchedules } from '../digests/jobs.js';
import { embedJob } from '../semantic/jobs.js';
import { savedSchedules } from '../saved/jobs.js';
import { pruneJobsJob } from './maintenance.js';
import { jobSpec } from './queue.js';
import type { Schedule } from './scheduler.js';

/** The periodic jobs the scheduler role enqueues. */
export function createSchedules(config: Config): Schedule[] {
  return [
    {
      name: 'maintenance.prune',
      // Off the harvest hour (config.harvest.hourUtc defaults to 3) so they do not contend.
      dailyAtUtcHour: 4,
      enqueue: () => jobSpec(pruneJobsJob, { olderThanDays: 7 }),
    },
    {
      // New papers (submissions, harvests, imports by other processes) become findable by meaning within minutes.
      name: 'semantic.embed',
      everyMs: 5 * 60_000,
      enqueue: () => jobSpec(embedJob, {}),
    },
    ...harvestSchedules(config),
    ...digestSchedules(config),
    ...savedSchedules(),
  ];
}
