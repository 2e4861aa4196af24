import type { Migration } from '../migrate.js';

/** The durable job queue (see src/jobs/). */
export const jobs: Migration = {
  version: 2,
  name: 'jobs',
  up() {
    // TODO(jobs): filled in by the job-queue work.
  },
};
