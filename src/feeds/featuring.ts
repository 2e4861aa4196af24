/**
 * Featuring: which papers appear in the daily feed, on which day, and who put
 * them there. A rule features new announcements in the configured categories
 * on their announcement day; curators and submitters feature by hand.
 * A curator's featuring and unfeaturing carry a reason and go to the
 * moderation log in the same transaction.
 */
import { sql, type Kysely } from 'kysely';
import type { Viewer } from '../accounts/users.js';
import type { Database } from '../db/connection.js';
import type { DB, FeatureSource } from '../db/schema.js';
import { recordModeration } from '../moderation/log.js';

/** The default rule's name, stored as `featured_by` of the rows it makes. */
export const CATEGORY_RULE = 'rule:categories';

export interface FeatureRuleResult {
  featured: number;
  lastPaperId: number;
}

/**
 * Features every paper added since the rule last ran whose categories meet
 * `categories`, on its announcement day. Papers are "new" by row id, so
 * re-running is a no-op, a paper unfeatured by a curator stays unfeatured,
 * and changing the categories applies to papers that arrive from then on.
 */
export async function applyCategoryRule(database: Database, categories: readonly string[]): Promise<FeatureRuleResult> {
  return database.db.transaction().execute(async (trx) => {
    const state = await trx
      .selectFrom('feature_rule_state')
      .select('last_paper_id')
      .where('rule', '=', CATEGORY_RULE)
      .executeTakeFirst();
    const since = state?.last_paper_id ?? 0;
    const { last } = await trx
      .selectFrom('papers')
      .select((eb) => eb.fn.coalesce(eb.fn.max('id'), eb.lit(0)).as('last'))
      .executeTakeFirstOrThrow();
    let featured = 0;
    if (categories.length > 0 && last > since) {
      const result = await trx
        .insertInto('featured')
        .columns(['paper_id', 'featured_on', 'source', 'featured_by', 'featured_at'])
        .expression((eb) =>
          eb
            .selectFrom('papers as p')
            .select([
              'p.id',
              'p.announced_on',
              sql<FeatureSource>`'rule'`.as('source'),
              sql<string>`cast(${CATEGORY_RULE} as text)`.as('featured_by'),
              sql<string>`p.announced_on || 'T00:00:00.000Z'`.as('featured_at'),
            ])
            .where('p.id', '>', since)
            .where('p.id', '<=', last)
            .where('p.announced_on', 'is not', null)
            .where('p.withdrawn', '=', 0)
            .where(({ exists, selectFrom }) =>
              exists(
                selectFrom('paper_categories as pc')
                  .select('pc.paper_id')
                  .whereRef('pc.paper_id', '=', 'p.id')
                  .where('pc.category', 'in', [...categories]),
              ),
            ),
        )
        .onConflict((oc) => oc.column('paper_id').doNothing())
        .executeTakeFirst();
      featured = Number(result.numInsertedOrUpdatedRows ?? 0);
    }
    await trx
      .insertInto('feature_rule_state')
      .values({ rule: CATEGORY_RULE, last_paper_id: last })
      .onConflict((oc) => oc.column('rule').doUpdateSet({ last_paper_id: last }))
      .execute();
    return { featured, lastPaperId: last };
  });
}

/** The featuring a paper already has, as `already_featured` errors report it. */
export interface ExistingFeature {
  /** The feed day, YYYY-MM-DD. */
  on: string;
  source: FeatureSource;
  /** Unfeatured by a curator (kept, not shown). */
  hidden: boolean;
}

export class FeatureError extends Error {
  constructor(
    readonly code: 'not_found' | 'already_featured',
    message: string,
    readonly existing?: ExistingFeature,
  ) {
    super(message);
    this.name = 'FeatureError';
  }
}

export interface FeatureRequest {
  arxivId: string;
  /** The feed day, YYYY-MM-DD. */
  on: string;
  source: Exclude<FeatureSource, 'rule'>;
  /** Username of the curator or submitter. */
  by: string;
  /**
   * Only a paper never featured before, by anyone, hidden or not: submissions
   * neither take a paper from the rule's day nor revive one a curator hid.
   */
  onlyIfNew?: boolean;
}

/**
 * Features a paper by hand. A paper featured by the rule or hidden earlier is
 * moved to the requested day and credited to the person; one already featured
 * by a person stays as it is (`already_featured`); with `onlyIfNew`, so does
 * any paper featured before. The error carries the existing featuring.
 */
export async function featurePaper(database: Database, request: FeatureRequest, now = new Date()): Promise<void> {
  await database.db.transaction().execute((trx) => featureIn(trx, request, now));
}

/** `featurePaper` inside the caller's transaction; returns the paper's title. */
async function featureIn(trx: Kysely<DB>, request: FeatureRequest, now: Date): Promise<string> {
  const paper = await trx.selectFrom('papers').select(['id', 'title_text']).where('arxiv_id', '=', request.arxivId).executeTakeFirst();
  if (paper === undefined) throw new FeatureError('not_found', `No paper ${request.arxivId} in this instance.`);
  const readExisting = () =>
    trx.selectFrom('featured').select(['featured_on', 'source', 'hidden_at']).where('paper_id', '=', paper.id).executeTakeFirst();
  const alreadyFeatured = (existing: { featured_on: string; source: FeatureSource; hidden_at: string | null }) =>
    new FeatureError('already_featured', `${request.arxivId} is already featured.`, {
      on: existing.featured_on,
      source: existing.source,
      hidden: existing.hidden_at !== null,
    });
  const row = {
    featured_on: request.on,
    source: request.source,
    featured_by: request.by,
    featured_at: now.toISOString(),
    hidden_at: null,
    hidden_by: null,
  };
  if (request.onlyIfNew === true) {
    // Insert-or-nothing rather than read-then-insert: of two people submitting
    // the same paper at once, exactly one wins on either engine.
    const inserted = await trx
      .insertInto('featured')
      .values({ paper_id: paper.id, ...row })
      .onConflict((oc) => oc.column('paper_id').doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) return paper.title_text;
    const existing = await readExisting();
    if (existing === undefined) throw new Error(`featured row of ${request.arxivId} vanished during the insert`);
    throw alreadyFeatured(existing);
  }
  const existing = await readExisting();
  if (existing && existing.source !== 'rule' && existing.hidden_at === null) throw alreadyFeatured(existing);
  await trx
    .insertInto('featured')
    .values({ paper_id: paper.id, ...row })
    .onConflict((oc) => oc.column('paper_id').doUpdateSet(row))
    .execute();
  return paper.title_text;
}

/** A curator features a paper on `on` (YYYY-MM-DD), with a reason for the moderation log. */
export async function curatorFeature(database: Database, actor: Viewer, request: { arxivId: string; on: string; reason: string }, now = new Date()): Promise<void> {
  await database.db.transaction().execute(async (trx) => {
    const title = await featureIn(trx, { arxivId: request.arxivId, on: request.on, source: 'curator', by: actor.username }, now);
    await recordModeration(trx, actor, { action: 'feature_paper', subject: { kind: 'paper', id: request.arxivId, label: title }, reason: `${request.on}: ${request.reason}` }, now);
  });
}

/** A curator takes a paper off the feeds with a reason; false when it was not featured. */
export async function curatorUnfeature(database: Database, actor: Viewer, request: { arxivId: string; reason: string }, now = new Date()): Promise<boolean> {
  return database.db.transaction().execute(async (trx) => {
    const paper = await trx.selectFrom('papers').select(['id', 'title_text']).where('arxiv_id', '=', request.arxivId).executeTakeFirst();
    if (paper === undefined) throw new FeatureError('not_found', `No paper ${request.arxivId} in this instance.`);
    const result = await trx
      .updateTable('featured')
      .set({ hidden_at: now.toISOString(), hidden_by: actor.username })
      .where('hidden_at', 'is', null)
      .where('paper_id', '=', paper.id)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return false;
    await recordModeration(trx, actor, { action: 'unfeature_paper', subject: { kind: 'paper', id: request.arxivId, label: paper.title_text }, reason: request.reason }, now);
    return true;
  });
}

/** Removes a paper from the feeds (kept as hidden). Returns false when it was not featured. */
export async function unfeaturePaper(database: Database, arxivId: string, by: string, now = new Date()): Promise<boolean> {
  const result = await database.db
    .updateTable('featured')
    .set({ hidden_at: now.toISOString(), hidden_by: by })
    .where('hidden_at', 'is', null)
    .where('paper_id', '=', (eb) => eb.selectFrom('papers').select('id').where('arxiv_id', '=', arxivId))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
