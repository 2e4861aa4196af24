/**
 * Paper digests: the extractive summary and keyphrases of a paper, stored by
 * the `papers.digest` job with the model that wrote them and when. Pages read
 * the stored digest and compute one on the spot only for papers the job has
 * not reached yet.
 */
import { z } from 'zod';
import { cachedStatement, sqliteHandle, type Sqlite } from '../db/connection.js';
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
export function storedDigest(sqlite: Sqlite, paperId: number): Digest | undefined {
  const row = cachedStatement(
    sqlite,
    `SELECT d.sentences, d.keyphrases, d.model, d.created_at FROM paper_digests d
     JOIN papers p ON p.id = d.paper_id AND p.content_hash = d.content_hash
     WHERE d.paper_id = @paperId AND d.model = @model`,
  ).get({ paperId, model: DIGEST_MODEL }) as
    | { sentences: string; keyphrases: string; model: string; created_at: string }
    | undefined;
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
export function digestBatch(sqlite: Sqlite, afterId: number, now = new Date()): DigestRun {
  const until = afterId + WINDOW;
  const rows = sqlite
    .prepare(
      `SELECT p.id, p.title, p.abstract, p.content_hash FROM papers p
       LEFT JOIN paper_digests d ON d.paper_id = p.id
       WHERE p.id > ? AND p.id <= ? AND (d.paper_id IS NULL OR d.content_hash <> p.content_hash OR d.model <> ?)`,
    )
    .all(afterId, until, DIGEST_MODEL) as { id: number; title: string; abstract: string; content_hash: string }[];
  const upsert = sqlite.prepare(
    `INSERT INTO paper_digests (paper_id, content_hash, model, sentences, keyphrases, created_at)
     VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (paper_id) DO UPDATE SET content_hash = excluded.content_hash, model = excluded.model,
       sentences = excluded.sentences, keyphrases = excluded.keyphrases, created_at = excluded.created_at`,
  );
  const digests = rows.map((r) => ({ row: r, digest: computeDigest(r.title, r.abstract) }));
  const at = now.toISOString();
  if (digests.length > 0) {
    sqlite
      .transaction(() => {
        for (const { row, digest } of digests) {
          upsert.run(row.id, row.content_hash, DIGEST_MODEL, JSON.stringify(digest.sentences), JSON.stringify(digest.keyphrases), at);
        }
      })
      .immediate();
  }
  const maxId = sqlite.prepare('SELECT coalesce(max(id), 0) FROM papers').pluck().get() as number;
  return { written: rows.length, lastPaperId: until, finished: until >= maxId };
}

/** Runs batches from `afterId` to the last paper in one go (benchmarks, tests); returns how many were written. */
export function digestAll(sqlite: Sqlite, afterId = 0, now = new Date()): number {
  let written = 0;
  for (let after = afterId; ; ) {
    const run = digestBatch(sqlite, after, now);
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
  const sqlite = sqliteHandle(ctx.database);
  // Digests are written in id order, so new papers are the ids above the highest digested one.
  let after = job.payload.sweep
    ? 0
    : (sqlite.prepare('SELECT coalesce(max(paper_id), 0) FROM paper_digests').pluck().get() as number);
  let written = 0;
  for (;;) {
    signal.throwIfAborted();
    const run = digestBatch(sqlite, after);
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
