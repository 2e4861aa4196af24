import { harvestHandler, harvestJob } from '../arxiv/jobs.js';
import { planDigestsHandler, planDigestsJob, sendDigestHandler, sendDigestJob } from '../digests/jobs.js';
import { digestHandler, digestJob } from '../papers/digest.js';
import { embedHandler, embedJob } from '../semantic/jobs.js';
import { SAVED_ALERT, SAVED_CHECK, SAVED_WEBHOOK } from '../saved/jobs.js';
import { pruneJobsHandler, pruneJobsJob } from './maintenance.js';
import { JobRegistry } from './queue.js';

/** Every job type this build can run, with its handler; what `serve --roles worker` runs. */
export function createRegistry(): JobRegistry {
  return new JobRegistry().register(pruneJobsJob, pruneJobsHandler).register(harvestJob, harvestHandler)
    .register(digestJob, digestHandler)
    .register(planDigestsJob, planDigestsHandler)
    .register(sendDigestJob, sendDigestHandler)
    .register(embedJob, embedHandler)
    .register(...SAVED_CHECK).register(...SAVED_ALERT).register(...SAVED_WEBHOOK);
}
