/**
 * Paper digests: the extractive summary and keyphrases of a paper, stored by
 * the `papers.digest` job with the model that wrote them and when. Pages read
 * the stored digest and compute one on the spot only for papers the job has
 * not reached yet.
 */
import { z } from 'zod';
import type { Database } from '../db/connection.js';
import { defineJobType, type JobHandler } from '../jobs/queue.js';
import { keyphrases } from './keyphrases.js';
import { SUMMARISER, summarise } from './summary.js';

/** The model name stored with each digest; a new version redoes every paper. */
export const DIGEST_MODEL = `${SUMMARISER.name}-v${SUMMARISER.version}`;

export interface Digest {
  sentences: string[];
  keyphrases: string[];
  model: string;
  /** ISO timestamp the digest was written; null when computed for this view. */
  createdAt: string | null;
}

/** Computes the digest of a paper's title and abstract (TeX source). */
export function computeDigest(title: string, abstract: string): Digest {
  return {
    sentences: abstract.trim() === '' ? [] : summarise(abstract),
    keyphrases: keyphrases(title, abstract),
    model: DIGEST_MODEL,
    createdAt: null,
  };
}

/** The stored digest of a paper, if it was computed from its current text by the current model. */
export async function storedDigest(database: Database, paperId: number): Promise<Digest | undefined> {
  const row = await database.db
    .selectFrom('paper_digests as d')
    .innerJoin('papers as p', (join) => join.onRef('p.id', '=', 'd.paper_id').onRef('p.content_hash', '=', 'd.content_hash'))
    .select(['d.sentences', 'd.keyphrases', 'd.model', 'd.created_at'])
    .where('d.paper_id', '=', paperId)
    .where('d.model', '=', DIGEST_MODEL)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  return {
    sentences: JSON.parse(row.sentences) as string[],
    keyphrases: JSON.parse(row.keyphrases) as string[],
    model: row.model,
    createdAt: row.created_at,
  };
}

/** Paper ids per batch: at most ~0.15 s of summarising, so the web never waits long on the shared thread. */
const WINDOW = 500;

export interface DigestRun {
  written: number;
  /** The last paper id the batch covered; the next batch starts after it. */
  lastPaperId: number;
  finished: boolean;
}

/**
 * Writes digests for the papers with ids in (afterId, afterId + 500] that have
 * none, or one from older text or an older model. A bounded id range (not
 * "the next 500 stale papers") keeps every batch short even when nothing is
 * stale, and each batch commits on its own so imports never wait long.
 */
export async function digestBatch(database: Database, afterId: number, now = new Date()): Promise<DigestRun> {
  const until = afterId + WINDOW;
  const { db } = database;
  const rows = await db
    .selectFrom('papers as p')
    .leftJoin('paper_digests as d', 'd.paper_id', 'p.id')
    .select(['p.id', 'p.title', 'p.abstract', 'p.content_hash'])
    .where('p.id', '>', afterId)
    .where('p.id', '<=', until)
    .where((eb) =>
      eb.or([eb('d.paper_id', 'is', null), eb('d.content_hash', '<>', eb.ref('p.content_hash')), eb('d.model', '<>', DIGEST_MODEL)]),
    )
    .execute();
  const at = now.toISOString();
  const values = rows.map((r) => {
    const digest = computeDigest(r.title, r.abstract);
    return {
      paper_id: r.id,
      content_hash: r.content_hash,
      model: DIGEST_MODEL,
      sentences: JSON.stringify(digest.sentences),
      keyphrases: JSON.stringify(digest.keyphrases),
      created_at: at,
    };
  });
  if (values.length > 0) {
    await db
      .insertInto('paper_digests')
      .values(values)
      .onConflict((oc) =>
        oc.column('paper_id').doUpdateSet((eb) => ({
          content_hash: eb.ref('excluded.content_hash'),
          model: eb.ref('excluded.model'),
          sentences: eb.ref('excluded.sentences'),
          keyphrases: eb.ref('excluded.keyphrases'),
          created_at: eb.ref('excluded.created_at'),
        })),
      )
      .execute();
  }
  const { maxId } = await db
    .selectFrom('papers')
    .select((eb) => eb.fn.coalesce(eb.fn.max('id'), eb.lit(0)).as('maxId'))
    .executeTakeFirstOrThrow();
  return { written: rows.length, lastPaperId: until, finished: until >= maxId };
}

/** Runs batches from `afterId` to the last paper in one go (benchmarks, tests); returns how many were written. */
export async function digestAll(database: Database, afterId = 0, now = new Date()): Promise<number> {
  let written = 0;
  for (let after = afterId; ; ) {
    const run = await digestBatch(database, after, now);
    written += run.written;
    after = run.lastPaperId;
    if (run.finished) return written;
  }
}

/**
 * `papers.digest`: writes the digests of papers added since the last run, or
 * with `sweep`, checks every paper and redoes changed ones (after harvests,
 * which update papers). Pages compute a missing or stale digest on the fly.
 */
export const digestJob = defineJobType('papers.digest', z.object({ sweep: z.boolean().default(false) }), { maxAttempts: 5 });

export const digestHandler: JobHandler<z.output<typeof digestJob.schema>> = async ({ job, signal, log, ctx }) => {
  // Digests are written in id order, so new papers are the ids above the highest digested one.
  let after = 0;
  if (!job.payload.sweep) {
    const row = await ctx.database.db
      .selectFrom('paper_digests')
      .select((eb) => eb.fn.coalesce(eb.fn.max('paper_id'), eb.lit(0)).as('last'))
      .executeTakeFirstOrThrow();
    after = row.last;
  }
  let written = 0;
  for (;;) {
    signal.throwIfAborted();
    const run = await digestBatch(ctx.database, after);
    written += run.written;
    after = run.lastPaperId;
    if (run.finished) break;
    // Yield between batches so requests, heartbeats and other jobs run.
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (written > 0) log.info({ written, sweep: job.payload.sweep }, 'paper digests written');
  return { written };
};

/** A unique key per hour: enqueueing again within the hour is a no-op. */
export function digestJobKey(sweep: boolean, now = new Date()): string {
  return `papers.digest${sweep ? '.sweep' : ''}:${now.toISOString().slice(0, 13)}`;
}
