import { embedJobSpec } from '../semantic/jobs.js';
import { z } from 'zod';
import type { Config } from '../config.js';
import { applyCategoryRule } from '../feeds/featuring.js';
import { defineJobType, enqueue, jobSpec, type JobHandler } from '../jobs/queue.js';
import { digestJob, digestJobKey } from '../papers/digest.js';
import type { Schedule } from '../jobs/scheduler.js';
import { parseCategoryList } from '../papers/taxonomy.js';
import { ArxivUnreachableError, sharedArxivHttp } from './http.js';
import { isIsoDate, OaiHarvester, oaiSetsForCategories, totalCounts, validateWindow, type HarvestSummary } from './oai-harvester.js';

const isoDate = z.string().refine(isIsoDate, 'must be a date written YYYY-MM-DD');

/** `harvest.oai`: harvest arXiv's OAI-PMH for the configured (or given) categories. */
export const harvestJob = defineJobType(
  'harvest.oai',
  z
    .object({
      from: isoDate.optional(),
      until: isoDate.optional(),
      /** Categories or archives; default: ARXIV_CATEGORIES. */
      categories: z.array(z.string().min(1)).optional(),
      metadataPrefix: z.enum(['arXiv', 'arXivRaw']).optional(),
    })
    .refine((p) => p.from === undefined || p.until === undefined || p.from <= p.until, 'until is before from'),
  // Offline spells last hours, not seconds: back off in minutes, and let the
  // next day's scheduled harvest take over once the attempts run out.
  { maxAttempts: 8, backoff: { baseMs: 60_000, capMs: 3_600_000 } },
);

export type HarvestJobPayload = z.output<typeof harvestJob.schema>;

/** Runs a harvest job; offline is a logged warning and a retry, never a crash. */
export const harvestHandler: JobHandler<HarvestJobPayload> = async ({ job, signal, log, ctx }) => {
  const { config } = ctx;
  const { categories, unknown } = job.payload.categories
    ? parseCategoryList(job.payload.categories.join(','))
    : { categories: config.arxivCategories, unknown: [] };
  if (unknown.length > 0) log.warn({ unknown }, 'ignoring unknown categories');
  validateWindow(job.payload.from, job.payload.until);
  const harvester = new OaiHarvester({
    database: ctx.database,
    http: sharedArxivHttp(config, log),
    oaiUrl: config.arxiv.oaiUrl,
    log,
  });
  const sets = oaiSetsForCategories(categories);
  if (sets.length === 0) {
    log.info('no categories configured (ARXIV_CATEGORIES); nothing to harvest');
    return { sets: [] };
  }
  let summaries: HarvestSummary[];
  try {
    summaries = await harvester.harvestSets(
      sets,
      { from: job.payload.from ?? null, until: job.payload.until ?? null, metadataPrefix: job.payload.metadataPrefix },
      { signal },
    );
  } catch (err) {
    if (err instanceof ArxivUnreachableError) {
      // Expected whenever the machine is offline; the queue retries with backoff.
      log.warn({ host: err.host }, `harvest postponed: ${err.message}`);
    }
    throw err;
  }
  const total = totalCounts(summaries);
  const { featured } = await applyCategoryRule(ctx.database, config.arxivCategories);
  await enqueue(ctx.database.db, jobSpec(digestJob, { sweep: true }, { uniqueKey: digestJobKey(true) }));
  await enqueue(ctx.database.db, embedJobSpec('harvest'));
  log.info({ ...total, featured }, 'harvest job done');
  return { ...total, sets: summaries.map((s) => ({ set: s.set, from: s.from, coveredUntil: s.coveredUntil, records: s.records })) };
};

/**
 * The daily harvest, at HARVEST_HOUR_UTC, keyed `harvest:<date>` so several
 * schedulers enqueue it once; none when HARVEST_ENABLED=false.
 */
export function harvestSchedules(config: Pick<Config, 'harvest'>): Schedule[] {
  if (!config.harvest.enabled) return [];
  return [
    {
      name: 'harvest.daily',
      dailyAtUtcHour: config.harvest.hourUtc,
      enqueue: (due) => jobSpec(harvestJob, {}, { uniqueKey: `harvest:${due.toISOString().slice(0, 10)}` }),
    },
  ];
}
