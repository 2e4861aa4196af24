/**
 * Presenters: stored papers and feed entries in the response shapes of the
 * API (see schemas.ts), i.e. the Hugging Face papers API plus Paperboy's
 * additions. Pure functions, so the mapping is unit-tested on its own.
 */
import type { FeaturedInfo, FeedEntry } from '../feeds/feed.js';
import type { ExtractedLink } from '../papers/links.js';
import type { Paper } from '../papers/repository.js';
import type { Paper as ApiPaper, DailyPaper, PaperSearchResult, User } from './schemas.js';

const midnight = (day: string): string => `${day}T00:00:00.000Z`;

/**
 * When the paper was first submitted. HF always sends `publishedAt`; the few
 * records without a first-version date fall back to their versions, their
 * announcement day, and last to when Paperboy stored them.
 */
export function publishedAt(paper: Paper): string {
  return (
    paper.publishedAt ??
    paper.versions[0]?.submittedAt ??
    (paper.announcedOn !== null ? midnight(paper.announcedOn) : paper.modifiedAt)
  );
}

/**
 * When a paper entered the daily feed. Clients select a day by the date part
 * of this value (as HF's own tools do), so it must fall on the feed day: the
 * time of featuring when it did, the feed day's midnight (UTC) otherwise, e.g.
 * for a curator who features a paper on an earlier day's feed.
 */
export function submittedOnDailyAt(featured: FeaturedInfo): string {
  const at = Date.parse(featured.at);
  if (Number.isNaN(at)) return midnight(featured.on);
  const iso = new Date(at).toISOString();
  return iso.slice(0, 10) === featured.on ? iso : midnight(featured.on);
}

/** The user that put a paper on the feed, in HF's user-overview shape; the category rule is a user of type `rule`. */
export function featuredBy(featured: FeaturedInfo): User {
  if (featured.source === 'rule') {
    const name = featured.by ?? 'rule';
    return { _id: name, name, fullname: 'Featured automatically', avatarUrl: '', isPro: false, type: 'rule' };
  }
  const name = featured.by ?? featured.source;
  return { _id: `user:${name}`, name, fullname: name, avatarUrl: '', isPro: false, type: 'user', user: name };
}

const GITHUB_HOSTS: ReadonlySet<string> = new Set(['github.com', 'www.github.com']);

/**
 * HF's `githubRepo` is a repository URL (`https://github.com/owner/repo`), so
 * deeper links are cut to their repository and user or organisation pages,
 * which are no repository, are skipped.
 */
export function githubRepo(links: readonly ExtractedLink[]): string | undefined {
  for (const link of links) {
    if (link.kind !== 'code') continue;
    let url: URL;
    try {
      url = new URL(link.url);
    } catch {
      continue;
    }
    if (!GITHUB_HOSTS.has(url.hostname.toLowerCase())) continue;
    const [owner, repo] = url.pathname.split('/').filter(Boolean);
    if (owner === undefined || repo === undefined) continue;
    return `https://github.com/${owner}/${repo.replace(/\.git$/i, '')}`;
  }
  return undefined;
}

/** The paper object of `GET /api/papers/{id}` and of the `paper` field of list items. */
export function presentPaper(paper: Paper, featured: FeaturedInfo | null): ApiPaper {
  return {
    id: paper.arxivId,
    authors: paper.authors.map((a, i) => ({
      _id: `${paper.arxivId}#${i + 1}`,
      name: a.name,
      hidden: false,
      affiliations: a.affiliations,
    })),
    publishedAt: publishedAt(paper),
    submittedOnDailyAt: featured === null ? undefined : submittedOnDailyAt(featured),
    submittedOnDailyBy: featured === null ? undefined : featuredBy(featured),
    title: paper.title,
    summary: paper.abstract,
    upvotes: paper.upvotes,
    discussionId: paper.arxivId,
    githubRepo: githubRepo(paper.links),
    projectPage: paper.links.find((l) => l.kind === 'project')?.url,
    numComments: paper.commentCount,
    titleText: paper.titleText,
    summaryText: paper.abstractText,
    version: paper.version,
    categories: paper.categories,
    primaryCategory: paper.primaryCategory,
    updatedAt: paper.updatedAt,
    announcedOn: paper.announcedOn,
    doi: paper.doi,
    journalRef: paper.journalRef,
    arxivComments: paper.comments,
    license: paper.license,
    withdrawn: paper.withdrawn,
    links: paper.links.map((l) => ({ url: l.url, kind: l.kind })),
    featured: featured === null ? null : { on: featured.on, source: featured.source, by: featured.by, at: featured.at },
  };
}

/** A search hit in the HF daily-papers item shape; only featured papers have a submitter. */
export function presentSearchResult(entry: FeedEntry): PaperSearchResult {
  const paper = presentPaper(entry.paper, entry.featured);
  return {
    paper,
    // huggingface_hub reads the item's publishedAt as "appeared in daily papers".
    publishedAt: paper.submittedOnDailyAt ?? paper.publishedAt,
    title: paper.title,
    summary: paper.summary,
    thumbnail: '',
    numComments: paper.numComments,
    submittedBy: paper.submittedOnDailyBy,
    isAuthorParticipating: false,
  };
}

/** An item of the daily feed. */
export function presentDailyPaper(entry: FeedEntry & { featured: FeaturedInfo }): DailyPaper {
  const item = presentSearchResult(entry);
  return { ...item, submittedBy: featuredBy(entry.featured) };
}

/** Whether an entry is on the feed (for narrowing feed query results). */
export function isFeatured(entry: FeedEntry): entry is FeedEntry & { featured: FeaturedInfo } {
  return entry.featured !== null;
}

/**
 * The latest change among some entries: a paper's stored record or its
 * featuring. Undefined for no entries. (Counters such as upvotes do not touch
 * `modifiedAt`; the ETag, computed from the body, is the validator that
 * notices those.)
 */
export function lastModified(entries: readonly FeedEntry[]): Date | undefined {
  let latest = Number.NEGATIVE_INFINITY;
  for (const { paper, featured } of entries) {
    for (const text of [paper.modifiedAt, featured?.at]) {
      const ms = text === undefined ? Number.NaN : Date.parse(text);
      if (ms > latest) latest = ms;
    }
  }
  return Number.isFinite(latest) ? new Date(latest) : undefined;
}
