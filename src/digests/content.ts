/**
 * What a digest says: the papers of a period, frozen into the run when it is
 * built, and each recipient's selection of them. Both are stored as JSON
 * (digest_runs.content, digest_deliveries.selection) so that a message
 * rendered again after a crash is the message rendered the first time.
 */
import { sql } from 'kysely';
import type { Database } from '../db/connection.js';
import type { DigestCadence } from '../db/schema.js';
import { expandCategoryFilter } from '../feeds/feed.js';
import { addDays } from '../feeds/periods.js';
import { trendingScore } from '../feeds/trending.js';
import { computeDigest, DIGEST_MODEL } from '../papers/digest.js';
import { splitSentences } from '../papers/summary.js';
import { canonicalCategory } from '../papers/taxonomy.js';
import { collapseWhitespace, texToPlain } from '../papers/tex.js';
import type { Preferences } from '../subscriptions/preferences.js';

/** One paper as the digest shows it, frozen at build time. */
export interface DigestPaper {
  id: number;
  arxivId: string;
  title: string;
  /** The first authors, and how many there are in all. */
  authors: string[];
  authorCount: number;
  /** One line: the paper's stored summary, or the abstract's first sentence. */
  summary: string;
  categories: string[];
  upvotes: number;
  comments: number;
}

/** A run's frozen content: its period and the period's trending featured papers, best first. */
export interface DigestContent {
  cadence: DigestCadence;
  /** First and last day of the period, YYYY-MM-DD. */
  from: string;
  to: string;
  papers: DigestPaper[];
}

/** One recipient's digest: indexes into `DigestContent.papers`, by section, in order. */
export interface DigestSelection {
  trending: number[];
  /** Papers matching the recipient's boosted keywords that are not in `trending`. */
  keywords: number[];
  /**
   * The "For you" section of a subscriber linked to an account
   * (src/personal/digest-section.ts): papers frozen whole with their reason,
   * since they need not be among the period's trending papers.
   */
  forYou?: ForYouPick[];
}

/** A paper of the "For you" section and why it is there. */
export interface ForYouPick {
  paper: DigestPaper;
  reason: string;
}

/** What a subscriber linked to an account hides besides the subscription's muted keywords. */
export interface PersonalMutes {
  /** The account's muted keywords. */
  mutedKeywords: readonly string[];
  /** Ids of the papers the account marked not interested. */
  dismissed: ReadonlySet<number>;
}

/** Most papers a run freezes: far more than any recipient's selection shows. */
export const MAX_DIGEST_PAPERS = 200;
/** Authors a digest paper keeps (the count keeps the rest). */
export const DIGEST_AUTHORS = 5;
/** Longest one-line summary, in characters. */
export const SUMMARY_CHARS = 200;
/** Most papers in a recipient's "Matching your keywords" section. */
export const MAX_KEYWORD_PAPERS = 5;

interface CandidateRow {
  id: number;
  upvotes: number;
  comment_count: number;
  featured_at: string;
  published_at: string | null;
}

interface PaperRow {
  id: number;
  arxiv_id: string;
  title: string;
  title_text: string;
  abstract: string;
  authors: string;
  categories: string;
  upvotes: number;
  comment_count: number;
  content_hash: string;
}

/** The first and last day of the period ending `periodEnd`. */
export function periodOf(cadence: DigestCadence, periodEnd: string): { from: string; to: string } {
  return { from: cadence === 'weekly' ? addDays(periodEnd, -6) : periodEnd, to: periodEnd };
}

function authorNames(json: string): string[] {
  try {
    const value: unknown = JSON.parse(json);
    if (!Array.isArray(value)) return [];
    return value.flatMap((a: unknown) =>
      typeof a === 'object' && a !== null && 'name' in a && typeof a.name === 'string' && a.name.trim() !== ''
        ? [texToPlain(a.name)]
        : [],
    );
  } catch {
    return [];
  }
}

/** The opening of a text, at most `max` characters, cut at a word boundary. */
function lead(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).replace(/[\s,;:.]+$/, '')}…`;
}

/** The first key sentence as one plain line of at most SUMMARY_CHARS. */
function summaryLine(sentences: readonly string[], abstract: string): string {
  const first = sentences[0] ?? splitSentences(abstract)[0] ?? '';
  return lead(texToPlain(first), SUMMARY_CHARS);
}

/** Stored summaries of these papers that are current (same text, same model), by paper id. */
async function storedSentences(database: Database, papers: readonly PaperRow[]): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  if (papers.length === 0) return out;
  const rows = await database.db
    .selectFrom('paper_digests')
    .select(['paper_id', 'content_hash', 'sentences'])
    .where('paper_id', 'in', papers.map((p) => p.id))
    .where('model', '=', DIGEST_MODEL)
    .execute();
  const hashes = new Map(papers.map((p) => [p.id, p.content_hash]));
  for (const row of rows) {
    if (hashes.get(row.paper_id) !== row.content_hash) continue;
    try {
      const sentences: unknown = JSON.parse(row.sentences);
      if (Array.isArray(sentences)) out.set(row.paper_id, sentences.filter((s): s is string => typeof s === 'string'));
    } catch {
      // A damaged row: the summary is computed again below.
    }
  }
  return out;
}

/**
 * Whether anything is featured in the period yet. The planner builds a run
 * only once this holds: a daily run due before the day's harvest (an instance
 * east of UTC, or a late harvest) would otherwise be frozen empty and that
 * day's digest lost; asked again every few minutes, it goes out once the
 * papers are in.
 */
export async function periodHasPapers(database: Database, cadence: DigestCadence, periodEnd: string): Promise<boolean> {
  const { from, to } = periodOf(cadence, periodEnd);
  const row = await database.db
    .selectFrom('featured')
    .select('paper_id')
    .where('hidden_at', 'is', null)
    .where('featured_on', '>=', from)
    .where('featured_on', '<=', to)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * The papers of a period as a run freezes them: featured (not hidden, not
 * withdrawn) on `periodEnd` (daily) or in the 7 days ending on it (weekly),
 * ranked by the trending score at the end of the period (or now, for a period
 * still running), the best MAX_DIGEST_PAPERS of them. Titles, authors and
 * summaries are plain text: mail clients do not render TeX.
 */
export async function buildContent(
  database: Database,
  cadence: DigestCadence,
  periodEnd: string,
  now: number = Date.now(),
): Promise<DigestContent> {
  const { from, to } = periodOf(cadence, periodEnd);
  // Scores over narrow rows first; only the kept papers are read in full.
  const { rows: candidates } = await sql<CandidateRow>`SELECT p.id, p.upvotes, p.comment_count, f.featured_at, p.published_at
     FROM featured f JOIN papers p ON p.id = f.paper_id
     WHERE f.hidden_at IS NULL AND p.withdrawn = 0 AND f.featured_on BETWEEN ${from} AND ${to}`.execute(database.db);
  const reference = Math.min(now, Date.parse(`${to}T23:59:59.999Z`));
  const ranked = candidates
    .map((c) => ({
      id: c.id,
      published: c.published_at ?? '',
      score: trendingScore({ upvotes: c.upvotes, comments: c.comment_count, featuredAt: c.featured_at }, reference),
    }))
    .sort((a, b) => b.score - a.score || (a.published < b.published ? 1 : a.published > b.published ? -1 : b.id - a.id))
    .slice(0, MAX_DIGEST_PAPERS);
  if (ranked.length === 0) return { cadence, from, to, papers: [] };
  return { cadence, from, to, papers: await digestPapers(database, ranked.map((r) => r.id)) };
}

/** Papers as a digest shows them (plain text), in the order of `ids`; unknown ids are left out. */
export async function digestPapers(database: Database, ids: readonly number[]): Promise<DigestPaper[]> {
  if (ids.length === 0) return [];
  const rows = await database.db
    .selectFrom('papers')
    .select(['id', 'arxiv_id', 'title', 'title_text', 'abstract', 'authors', 'categories', 'upvotes', 'comment_count', 'content_hash'])
    .where('id', 'in', [...ids])
    .execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  const stored = await storedSentences(database, rows);
  return ids.flatMap((id): DigestPaper[] => {
    const row = byId.get(id);
    if (row === undefined) return [];
    const names = authorNames(row.authors);
    const sentences = stored.get(id) ?? computeDigest(row.title, row.abstract).sentences;
    return [
      {
        id: row.id,
        arxivId: row.arxiv_id,
        title: collapseWhitespace(row.title_text !== '' ? row.title_text : texToPlain(row.title)),
        authors: names.slice(0, DIGEST_AUTHORS),
        authorCount: names.length,
        summary: summaryLine(sentences, row.abstract),
        categories: row.categories === '' ? [] : row.categories.split(' '),
        upvotes: row.upvotes,
        comments: row.comment_count,
      },
    ];
  });
}

/** Keyword matcher: the whole keyword, case-insensitive, not inside a longer word (`GAN` is not in `organ`). */
export function keywordPattern(keyword: string): RegExp {
  const escaped = keyword.trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+');
  return new RegExp(`(?<![\\p{L}\\p{N}_])${escaped}(?![\\p{L}\\p{N}_])`, 'iu');
}

/** The canonical categories a list of categories and archives allows; undefined: all. */
function allowedCategories(categories: readonly string[]): Set<string> | undefined {
  if (categories.length === 0) return undefined;
  const allowed = new Set<string>();
  for (const name of categories) {
    // An id the taxonomy no longer knows still matches papers filed under it.
    for (const c of expandCategoryFilter(name) ?? [name]) allowed.add(canonicalCategory(c));
  }
  return allowed;
}

/**
 * Selections for many recipients of one run. A run has a few hundred papers
 * and up to hundreds of thousands of recipients with a few distinct keywords
 * and category lists between them, so each keyword is matched against the
 * papers once, each category list expanded once, and each distinct set of
 * preferences selected once.
 */
export class DigestSelector {
  private readonly texts: string[];
  private readonly keywordHits = new Map<string, boolean[]>();
  private readonly categoryHits = new Map<string, boolean[]>();
  private readonly selections = new Map<string, DigestSelection | null>();

  constructor(readonly content: DigestContent) {
    this.texts = content.papers.map((p) => `${p.title}\n${p.summary}`);
  }

  private hitsOfKeyword(keyword: string): boolean[] {
    const key = keyword.trim().toLowerCase();
    let hits = this.keywordHits.get(key);
    if (hits === undefined) {
      const pattern = keywordPattern(key);
      hits = this.texts.map((t) => pattern.test(t));
      this.keywordHits.set(key, hits);
    }
    return hits;
  }

  private hitsOfCategories(categories: readonly string[]): boolean[] {
    const key = JSON.stringify(categories);
    let hits = this.categoryHits.get(key);
    if (hits === undefined) {
      const allowed = allowedCategories(categories);
      hits = this.content.papers.map(
        (p) => allowed === undefined || p.categories.some((c) => allowed.has(canonicalCategory(c))),
      );
      this.categoryHits.set(key, hits);
    }
    return hits;
  }

  /**
   * The recipient's sections, or null when there is nothing to send them.
   * `personal` (a subscriber linked to an account) adds the account's muted
   * keywords and dismissed papers; such a selection is that person's alone
   * and is not kept for others.
   */
  select(prefs: Preferences, personal?: PersonalMutes): DigestSelection | null {
    const key = JSON.stringify([prefs.paperCount, prefs.categories, prefs.keywords, prefs.mutedKeywords]);
    const shared = personal === undefined || (personal.mutedKeywords.length === 0 && personal.dismissed.size === 0);
    if (shared && this.selections.has(key)) return this.selections.get(key) ?? null;
    const inCategory = this.hitsOfCategories(prefs.categories);
    const muted = [...prefs.mutedKeywords, ...(personal?.mutedKeywords ?? [])].filter((k) => k.trim() !== '').map((k) => this.hitsOfKeyword(k));
    const boosted = prefs.keywords.filter((k) => k.trim() !== '').map((k) => this.hitsOfKeyword(k));
    const trending: number[] = [];
    const keywords: number[] = [];
    for (let i = 0; i < this.content.papers.length; i++) {
      if (!inCategory[i] || muted.some((hits) => hits[i])) continue;
      if (personal !== undefined && personal.dismissed.has(this.content.papers[i]?.id ?? -1)) continue;
      if (trending.length < prefs.paperCount) trending.push(i);
      else if (keywords.length < MAX_KEYWORD_PAPERS && boosted.some((hits) => hits[i])) keywords.push(i);
      else if (keywords.length >= MAX_KEYWORD_PAPERS || boosted.length === 0) break;
    }
    const selection = trending.length === 0 && keywords.length === 0 ? null : { trending, keywords };
    if (shared) this.selections.set(key, selection);
    return selection;
  }
}

/** One recipient's selection of a run's papers (see DigestSelector), or null when there is nothing to send. */
export function selectFor(content: DigestContent, prefs: Preferences): DigestSelection | null {
  return new DigestSelector(content).select(prefs);
}
