/**
 * Paper digests: the extractive summary and keyphrases of a paper, stored by
 * the `papers.digest` job with the model that wrote them and when. Pages read
 * the stored digest and compute one on the spot only for papers the job has
 * not reached yet.
 */
import { z } from 'zod';
import type { Sqlite } from '../db/connection.js';
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

const statements = new WeakMap<Sqlite, ReturnType<Sqlite['prepare']>>();

/** The stored digest of a paper, if it was computed from its current text by the current model. */
export function storedDigest(sqlite: Sqlite, paperId: number): Digest | undefined {
  let stmt = statements.get(sqlite);
  if (stmt === undefined) {
    stmt = sqlite.prepare(
      `SELECT d.sentences, d.keyphrases, d.model, d.created_at FROM paper_digests d
       JOIN papers p ON p.id = d.paper_id AND p.content_hash = d.content_hash
       WHERE d.paper_id = @paperId AND d.model = @model`,
    );
    statements.set(sqlite, stmt);
  }
  const row = stmt.get({ paperId, model: DIGEST_MODEL }) as
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

const BATCH = 500;

export interface DigestRun {
  written: number;
  lastPaperId: number;
  finished: boolean;
}

/**
 * Writes digests for the next batch of papers after `afterId` that have none,
 * or one from older text or an older model. Walking by id keeps a full pass
 * over a million papers one scan, and each short batch commits on its own so
 * imports and the web never wait long for the write lock.
 */
export function digestBatch(sqlite: Sqlite, afterId: number, now = new Date()): DigestRun {
  const rows = sqlite
    .prepare(
      `SELECT p.id, p.title, p.abstract, p.content_hash FROM papers p
       LEFT JOIN paper_digests d ON d.paper_id = p.id
       WHERE p.id > ? AND (d.paper_id IS NULL OR d.content_hash <> p.content_hash OR d.model <> ?)
       ORDER BY p.id LIMIT ?`,
    )
    .all(afterId, DIGEST_MODEL, BATCH) as { id: number; title: string; abstract: string; content_hash: string }[];
  const upsert = sqlite.prepare(
    `INSERT INTO paper_digests (paper_id, content_hash, model, sentences, keyphrases, created_at)
     VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (paper_id) DO UPDATE SET content_hash = excluded.content_hash, model = excluded.model,
       sentences = excluded.sentences, keyphrases = excluded.keyphrases, created_at = excluded.created_at`,
  );
  const digests = rows.map((r) => ({ row: r, digest: computeDigest(r.title, r.abstract) }));
  const at = now.toISOString();
  sqlite
    .transaction(() => {
      for (const { row, digest } of digests) {
        upsert.run(row.id, row.content_hash, DIGEST_MODEL, JSON.stringify(digest.sentences), JSON.stringify(digest.keyphrases), at);
      }
    })
    .immediate();
  return { written: rows.length, lastPaperId: rows.at(-1)?.id ?? afterId, finished: rows.length < BATCH };
}

/** `papers.digest`: brings every paper's stored digest up to date. */
export const digestJob = defineJobType('papers.digest', z.object({}), { maxAttempts: 5 });

export const digestHandler: JobHandler<z.output<typeof digestJob.schema>> = async ({ signal, log, ctx }) => {
  let after = 0;
  let written = 0;
  for (;;) {
    signal.throwIfAborted();
    const run = digestBatch(ctx.database.sqlite, after);
    written += run.written;
    after = run.lastPaperId;
    if (run.finished) break;
    // Yield between batches so the worker's heartbeat and other jobs keep running.
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (written > 0) log.info({ written }, 'paper digests written');
  return { written };
};

/** A unique key per hour: enqueueing again within the hour is a no-op. */
export function digestJobKey(now = new Date()): string {
  return `papers.digest:${now.toISOString().slice(0, 13)}`;
}
