/**
 * Featuring: which papers appear in the daily feed, on which day, and who put
 * them there. A rule features new announcements in the configured categories
 * on their announcement day; curators and submitters feature by hand.
 */
import type { Sqlite } from '../db/connection.js';
import type { FeatureSource } from '../db/schema.js';

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
export function applyCategoryRule(sqlite: Sqlite, categories: readonly string[]): FeatureRuleResult {
  return sqlite.transaction((): FeatureRuleResult => {
    const since =
      (sqlite.prepare('SELECT last_paper_id FROM feature_rule_state WHERE rule = ?').pluck().get(CATEGORY_RULE) as
        | number
        | undefined) ?? 0;
    const last = (sqlite.prepare('SELECT coalesce(max(id), 0) FROM papers').pluck().get() as number) ?? 0;
    let featured = 0;
    if (categories.length > 0 && last > since) {
      // The category list is bound as one JSON array parameter: no SQL is built from input.
      featured = sqlite
        .prepare(
          `INSERT INTO featured (paper_id, featured_on, source, featured_by, featured_at)
           SELECT p.id, p.announced_on, 'rule', @rule, p.announced_on || 'T00:00:00.000Z'
           FROM papers p
           WHERE p.id > @since AND p.id <= @last AND p.announced_on IS NOT NULL AND p.withdrawn = 0
             AND EXISTS (SELECT 1 FROM paper_categories pc
                         WHERE pc.paper_id = p.id AND pc.category IN (SELECT value FROM json_each(@categories)))
           ON CONFLICT (paper_id) DO NOTHING`,
        )
        .run({ rule: CATEGORY_RULE, since, last, categories: JSON.stringify(categories) }).changes;
    }
    sqlite
      .prepare(
        `INSERT INTO feature_rule_state (rule, last_paper_id) VALUES (?, ?)
         ON CONFLICT (rule) DO UPDATE SET last_paper_id = excluded.last_paper_id`,
      )
      .run(CATEGORY_RULE, last);
    return { featured, lastPaperId: last };
  }).immediate();
}

export class FeatureError extends Error {
  constructor(
    readonly code: 'not_found' | 'already_featured',
    message: string,
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
}

/**
 * Features a paper by hand. A paper featured by the rule or hidden earlier is
 * moved to the requested day and credited to the person; one already featured
 * by a person stays as it is (`already_featured`).
 */
export function featurePaper(sqlite: Sqlite, request: FeatureRequest, now = new Date()): void {
  sqlite.transaction(() => {
    const paperId = sqlite.prepare('SELECT id FROM papers WHERE arxiv_id = ?').pluck().get(request.arxivId) as
      | number
      | undefined;
    if (paperId === undefined) throw new FeatureError('not_found', `No paper ${request.arxivId} in this instance.`);
    const existing = sqlite.prepare('SELECT source, hidden_at FROM featured WHERE paper_id = ?').get(paperId) as
      | { source: FeatureSource; hidden_at: string | null }
      | undefined;
    if (existing && existing.source !== 'rule' && existing.hidden_at === null) {
      throw new FeatureError('already_featured', `${request.arxivId} is already featured.`);
    }
    sqlite
      .prepare(
        `INSERT INTO featured (paper_id, featured_on, source, featured_by, featured_at)
         VALUES (@paperId, @on, @source, @by, @at)
         ON CONFLICT (paper_id) DO UPDATE SET featured_on = excluded.featured_on, source = excluded.source,
           featured_by = excluded.featured_by, featured_at = excluded.featured_at, hidden_at = NULL, hidden_by = NULL`,
      )
      .run({ paperId, on: request.on, source: request.source, by: request.by, at: now.toISOString() });
  }).immediate();
}

/** Removes a paper from the feeds (kept as hidden). Returns false when it was not featured. */
export function unfeaturePaper(sqlite: Sqlite, arxivId: string, by: string, now = new Date()): boolean {
  const result = sqlite
    .prepare(
      `UPDATE featured SET hidden_at = @at, hidden_by = @by
       WHERE hidden_at IS NULL AND paper_id = (SELECT id FROM papers WHERE arxiv_id = @arxivId)`,
    )
    .run({ at: now.toISOString(), by, arxivId });
  return result.changes > 0;
}
