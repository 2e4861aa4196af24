/**
 * Digest runs written straight into the ledger, for delivery tests: confirmed
 * subscribers, a run with frozen content and one pending delivery per
 * subscriber, inserted in batches (fast enough for ten thousand recipients).
 */
import { randomBytes } from 'node:crypto';
import type { Database } from '../../src/db/connection.js';
import type { DigestContent, DigestPaper, DigestSelection } from '../../src/digests/content.js';

/** Rows per INSERT: far below both engines' parameter limits. */
const BATCH = 500;

function paper(i: number): DigestPaper {
  return {
    id: i + 1,
    arxivId: `2601.${String(i + 1).padStart(5, '0')}`,
    title: `A study of thing ${i + 1} & its <neighbours>`,
    authors: ['Ada Lovelace', 'Alan Turing'],
    authorCount: 2,
    summary: `We show that thing ${i + 1} matters.`,
    categories: ['cs.LG'],
    upvotes: 10 - i,
    comments: i,
  };
}

/** A daily run's content with `papers` papers. */
export function sampleContent(papers = 3, periodEnd = '2026-01-15'): DigestContent {
  return { cadence: 'daily', from: periodEnd, to: periodEnd, papers: Array.from({ length: papers }, (_, i) => paper(i)) };
}

export interface SeededSubscriber {
  id: number;
  email: string;
  linkToken: string;
}

/** Confirmed subscribers `${prefix}${i}@example.org`, i = 0..count-1. */
export async function seedSubscribers(database: Database, count: number, prefix = 'reader'): Promise<SeededSubscriber[]> {
  const now = new Date().toISOString();
  const out: SeededSubscriber[] = [];
  for (let start = 0; start < count; start += BATCH) {
    const values = Array.from({ length: Math.min(BATCH, count - start) }, (_, j) => {
      const email = `${prefix}${start + j}@example.org`;
      return {
        email,
        email_key: email.toLowerCase(),
        status: 'confirmed' as const,
        link_token: randomBytes(32).toString('base64url'),
        created_at: now,
        confirmed_at: now,
        updated_at: now,
      };
    });
    const rows = await database.db.insertInto('subscribers').values(values).returning(['id', 'email', 'link_token']).execute();
    for (const r of rows) out.push({ id: r.id, email: r.email, linkToken: r.link_token });
  }
  return out;
}

/** A run in `sending` with one pending delivery per subscriber; returns its id. */
export async function seedRun(
  database: Database,
  subscribers: readonly SeededSubscriber[],
  options: { content?: DigestContent; selection?: DigestSelection } = {},
): Promise<number> {
  const content = options.content ?? sampleContent();
  const selection = options.selection ?? { trending: content.papers.map((_, i) => i), keywords: [] };
  const now = new Date().toISOString();
  const run = await database.db
    .insertInto('digest_runs')
    .values({
      cadence: content.cadence,
      period_end: content.to,
      status: 'sending',
      content: JSON.stringify(content),
      recipients: subscribers.length,
      created_at: now,
      built_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  for (let start = 0; start < subscribers.length; start += BATCH) {
    await database.db
      .insertInto('digest_deliveries')
      .values(
        subscribers.slice(start, start + BATCH).map((s) => ({
          run_id: run.id,
          subscriber_id: s.id,
          email: s.email,
          selection: JSON.stringify(selection),
        })),
      )
      .execute();
  }
  return run.id;
}
