/**
 * RSS 2.0 and Atom feeds of the daily feed, trending, each category or
 * archive, and any keyword search, plus the `/feeds` page that lists them.
 * Each handler reads as: parse and validate the query, read the papers, map
 * them to the neutral feed of syndication.ts, render in the requested format.
 * The URL scheme is fixed: pages link to it with `<link rel="alternate">`.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { expandCategoryFilter, entriesByIds, listFeatured, listTrending, type FeedEntry } from '../feeds/feed.js';
import { listRecentAnnounced, recentFeaturedDays } from '../feeds/recent.js';
import { renderAtom, renderRss, type SyndicationFeed, type SyndicationItem } from '../feeds/syndication.js';
import { categoryTitle } from '../papers/taxonomy.js';
import { searchKeyword } from '../search/keyword.js';
import { paperPath } from './card.js';
import { sendError } from './errors.js';
import { html, type SafeHtml } from './html.js';
import { rateLimit } from './rate-limits.js';
import { layout, type AlternateFeed } from './layout.js';

export type FeedFormat = 'rss' | 'atom';

const FORMATS: Record<FeedFormat, { type: string; label: string; render: (feed: SyndicationFeed) => string }> = {
  rss: { type: 'application/rss+xml; charset=utf-8', label: 'RSS', render: renderRss },
  atom: { type: 'application/atom+xml; charset=utf-8', label: 'Atom', render: renderAtom },
};

/** How many featured days the daily feed spans, and its item cap. */
export const DAILY_FEED = { days: 7, maxItems: 100 } as const;
export const TRENDING_FEED_ITEMS = 50;
export const CATEGORY_FEED_ITEMS = 100;
export const SEARCH_FEED_ITEMS = 50;
const CACHE_CONTROL = 'public, max-age=300';
// Feeds without items have no newest item to date them by; a fixed instant
// keeps the document (and so its ETag) the same between requests.
const EPOCH = new Date(0);

const filterQuerySchema = z.object({
  category: z.string().max(40, 'must be at most 40 characters').optional(),
});
const searchQuerySchema = z.object({
  q: z.string().max(500, 'must be at most 500 characters').optional(),
});

function problemMessage(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; ');
}

/** "Machine Learning (cs.LG)", "High Energy Physics - Theory (hep-th)", or the name itself. */
function parseDate(value: string | null | undefined): Date | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

function latest(dates: readonly Date[]): Date {
  return dates.reduce((a, b) => (b.getTime() > a.getTime() ? b : a), EPOCH);
}

/**
 * A paper as a feed item. The id is the absolute paper URL: stable across
 * runs and feeds (a paper is the same entry in the daily and category feeds).
 * Published is the first arXiv version, updated the latest one. Personal feeds
 * (For you, Following) put why each paper is there above its abstract.
 */
export function paperFeedItem(baseUrl: string, entry: FeedEntry, reasons: readonly { text: string }[] = []): SyndicationItem {
  const { paper } = entry;
  const url = `${baseUrl}${paperPath(paper.arxivId)}`;
  const published = parseDate(paper.publishedAt) ?? parseDate(paper.announcedOn) ?? parseDate(paper.modifiedAt) ?? EPOCH;
  const revised = parseDate(paper.updatedAt);
  return {
    id: url,
    url,
    title: paper.titleText,
    summary: reasons.length > 0 ? `Why: ${reasons.map((r) => r.text).join('; ')}\n\n${paper.abstractText}` : paper.abstractText,
    authors: paper.authors.map((a) => a.name),
    categories: paper.categories,
    published,
    updated: revised !== null && revised > published ? revised : published,
  };
}

interface FeedContent {
  title: string;
  description: string;
  /** Root-relative path of the feed without its extension, e.g. `/feeds/c/cs.LG`. */
  path: string;
  /** Query string of the feed's own URL, already encoded, without `?`. */
  query?: string;
  /** Root-relative URL of the HTML page with the same papers. */
  htmlPath: string;
  entries: readonly FeedEntry[];
  /** Featured feeds change when a paper is featured, not only when one is revised. */
  datedByFeaturing?: boolean;
}

function buildFeed(baseUrl: string, format: FeedFormat, content: FeedContent): SyndicationFeed {
  const suffix = content.query ? `?${content.query}` : '';
  const items = content.entries.map((e) => paperFeedItem(baseUrl, e));
  const featuredAt = content.datedByFeaturing
    ? content.entries.flatMap((e) => {
        const at = parseDate(e.featured?.at);
        return at === null ? [] : [at];
      })
    : [];
  return {
    title: content.title,
    description: content.description,
    selfUrl: `${baseUrl}${content.path}.${format}${suffix}`,
    htmlUrl: `${baseUrl}${content.htmlPath}`,
    // One id per feed whatever the format, so an RSS and an Atom subscription name the same feed.
    id: `${baseUrl}${content.path}.atom${suffix}`,
    updated: latest([...items.map((i) => i.updated), ...featuredAt]),
    items,
  };
}

function sendFeed(reply: FastifyReply, format: FeedFormat, feed: SyndicationFeed): FastifyReply {
  reply.type(FORMATS[format].type).header('cache-control', CACHE_CONTROL);
  if (feed.items.length > 0) reply.header('last-modified', feed.updated.toUTCString());
  return reply.send(FORMATS[format].render(feed));
}

interface CategoryFilter {
  name: string;
  categories: string[];
}

/** The optional `?category=` filter; null after answering 400. */
function parseFilter(req: FastifyRequest, reply: FastifyReply): { filter: CategoryFilter | undefined } | null {
  const parsed = filterQuerySchema.safeParse(req.query);
  if (!parsed.success) {
    sendError(req, reply, 400, problemMessage(parsed.error));
    return null;
  }
  const name = parsed.data.category?.trim();
  if (name === undefined || name === '') return { filter: undefined };
  const categories = expandCategoryFilter(name);
  if (categories === undefined) {
    sendError(req, reply, 400, `Unknown category "${name}": use a category such as cs.LG or an archive such as hep-th.`);
    return null;
  }
  return { filter: { name, categories } };
}

function filterQuery(filter: CategoryFilter | undefined): string | undefined {
  return filter ? `category=${encodeURIComponent(filter.name)}` : undefined;
}

/** The featured papers of the newest featured days, day by day, newest day first. */
async function dailyEntries(ctx: AppContext, categories: readonly string[] | undefined): Promise<FeedEntry[]> {
  const entries: FeedEntry[] = [];
  for (const day of await recentFeaturedDays(ctx.database, { count: DAILY_FEED.days, categories })) {
    const remaining = DAILY_FEED.maxItems - entries.length;
    if (remaining <= 0) break;
    const page = await listFeatured(ctx.database, { from: day, to: day, categories, sort: 'newest', limit: remaining, offset: 0 });
    entries.push(...page.entries);
  }
  return entries;
}

function dailyFeed(ctx: AppContext, format: FeedFormat) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const parsed = parseFilter(req, reply);
    if (parsed === null) return reply;
    const { filter } = parsed;
    const where = filter ? ` in ${categoryTitle(filter.name)}` : '';
    const query = filterQuery(filter);
    return sendFeed(
      reply,
      format,
      buildFeed(ctx.config.baseUrl, format, {
        title: `Paperboy: daily papers${where}`,
        description: `Papers featured on Paperboy${where} over the last ${DAILY_FEED.days} days with papers, newest day first.`,
        path: '/feeds/daily',
        query,
        htmlPath: `/papers${query ? `?${query}` : ''}`,
        entries: await dailyEntries(ctx, filter?.categories),
        datedByFeaturing: true,
      }),
    );
  };
}

function trendingFeed(ctx: AppContext, format: FeedFormat) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const parsed = parseFilter(req, reply);
    if (parsed === null) return reply;
    const { filter } = parsed;
    const where = filter ? ` in ${categoryTitle(filter.name)}` : '';
    const query = filterQuery(filter);
    const page = await listTrending(ctx.database, { categories: filter?.categories, limit: TRENDING_FEED_ITEMS, offset: 0 });
    return sendFeed(
      reply,
      format,
      buildFeed(ctx.config.baseUrl, format, {
        title: `Paperboy: trending papers${where}`,
        description: `The ${TRENDING_FEED_ITEMS} papers trending on Paperboy${where}, by upvotes and discussion with time decay.`,
        path: '/feeds/trending',
        query,
        htmlPath: `/papers/trending${query ? `?${query}` : ''}`,
        entries: page.entries,
        datedByFeaturing: true,
      }),
    );
  };
}

const FEED_FILE = /^(.+)\.(rss|atom)$/;

function categoryFeed(ctx: AppContext) {
  return async (req: FastifyRequest<{ Params: { file: string } }>, reply: FastifyReply): Promise<FastifyReply> => {
    const match = FEED_FILE.exec(req.params.file);
    const name = match?.[1];
    const format = match?.[2] as FeedFormat | undefined;
    if (name === undefined || format === undefined) {
      return sendError(req, reply, 404, 'Category feeds end in .rss or .atom, e.g. /feeds/c/cs.LG.rss.');
    }
    const categories = expandCategoryFilter(name);
    if (categories === undefined) return sendError(req, reply, 404, `Unknown category "${name}".`);
    const title = categoryTitle(name);
    return sendFeed(
      reply,
      format,
      buildFeed(ctx.config.baseUrl, format, {
        title: `Paperboy: ${title}`,
        description: `The newest papers announced on arXiv in ${title}.`,
        path: `/feeds/c/${encodeURIComponent(name)}`,
        htmlPath: `/c/${encodeURIComponent(name)}`,
        entries: await listRecentAnnounced(ctx.database, { categories, limit: CATEGORY_FEED_ITEMS }),
      }),
    );
  };
}

function searchFeed(ctx: AppContext, format: FeedFormat) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const parsed = searchQuerySchema.safeParse(req.query);
    if (!parsed.success) return sendError(req, reply, 400, problemMessage(parsed.error));
    const q = parsed.data.q?.trim() ?? '';
    if (q === '') return sendError(req, reply, 400, `A search feed needs a query, e.g. /feeds/search.${format}?q=diffusion.`);
    // A query with nothing searchable (only operators or exclusions) is still a
    // feed: an empty one, so a reader subscribed to it keeps working.
    const result = await searchKeyword(ctx.database, q, { limit: SEARCH_FEED_ITEMS, snippets: false, count: false });
    const entries = await entriesByIds(
      ctx.database,
      result.hits.map((h) => h.paperId),
    );
    const query = `q=${encodeURIComponent(q)}`;
    return sendFeed(
      reply,
      format,
      buildFeed(ctx.config.baseUrl, format, {
        title: `Paperboy search: ${q}`,
        description: result.problem
          ? `No papers: ${result.problem}.`
          : `The ${SEARCH_FEED_ITEMS} papers that best match "${q}" on Paperboy.`,
        path: '/feeds/search',
        query,
        htmlPath: `/search?${query}`,
        entries,
      }),
    );
  };
}

function feedLinks(baseUrl: string, label: string, path: string, query = ''): SafeHtml {
  return html`${(['rss', 'atom'] as const).map(
    (f, i) => html`${i > 0 ? ' · ' : ''}<a href="${path}.${f}${query}" aria-label="${label} (${FORMATS[f].label})">${FORMATS[f].label}</a> <code>${baseUrl}${path}.${f}${query}</code>`,
  )}`;
}

function alternatesOf(label: string, path: string): AlternateFeed[] {
  return [
    { title: `${label} (RSS)`, href: `${path}.rss`, type: 'application/rss+xml' },
    { title: `${label} (Atom)`, href: `${path}.atom`, type: 'application/atom+xml' },
  ];
}

function feedsIndex(ctx: AppContext): SafeHtml {
  const base = ctx.config.baseUrl;
  const configured = [...ctx.config.arxivCategories].sort();
  const example = configured[0] ?? 'cs.LG';
  const body = html`<h1>Feeds</h1>
<p>Follow Paperboy in any feed reader. Every feed comes as RSS 2.0 and as Atom 1.0, and is cached for five minutes.</p>
<table class="feeds">
<caption>Feeds and their addresses</caption>
<thead><tr><th scope="col">Feed</th><th scope="col">What it holds</th><th scope="col">Addresses</th></tr></thead>
<tbody>
<tr><th scope="row">Daily papers</th><td>Featured papers of the last ${DAILY_FEED.days} days with papers, newest first (at most ${DAILY_FEED.maxItems}).</td><td>${feedLinks(base, 'Daily papers', '/feeds/daily')}</td></tr>
<tr><th scope="row">Trending</th><td>The ${TRENDING_FEED_ITEMS} papers trending now.</td><td>${feedLinks(base, 'Trending papers', '/feeds/trending')}</td></tr>
<tr><th scope="row">A category or archive</th><td>The ${CATEGORY_FEED_ITEMS} newest papers announced in it, featured or not.</td><td><code>${base}/feeds/c/{category}.rss</code> · <code>${base}/feeds/c/{category}.atom</code>, e.g. ${feedLinks(base, example, `/feeds/c/${example}`)}</td></tr>
<tr><th scope="row">A search</th><td>The ${SEARCH_FEED_ITEMS} best matches of any query, in the <a href="/search">search</a> syntax.</td><td><code>${base}/feeds/search.rss?q={query}</code> · <code>${base}/feeds/search.atom?q={query}</code></td></tr>
</tbody>
</table>
<p>Add <code>?category=cs.LG</code> (a category) or <code>?category=hep-th</code> (an archive) to the daily or trending feed to keep only those papers.</p>
${
  configured.length > 0
    ? html`<section aria-labelledby="categories"><h2 id="categories">Categories of this instance</h2>
<ul class="feed-categories">${configured.map(
        (c) => html`<li><a href="/c/${c}">${categoryTitle(c)}</a>: <a href="/feeds/c/${c}.rss">RSS</a> · <a href="/feeds/c/${c}.atom">Atom</a></li>`,
      )}</ul></section>`
    : ''
}`;
  return layout(
    {
      title: 'Feeds · Paperboy',
      description: 'RSS and Atom feeds of daily, trending, category and search results.',
      alternates: [...alternatesOf('Daily papers', '/feeds/daily'), ...alternatesOf('Trending papers', '/feeds/trending')],
    },
    body,
  );
}

export function syndicationRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    for (const format of ['rss', 'atom'] as const) {
      app.get(`/feeds/daily.${format}`, dailyFeed(ctx, format));
      app.get(`/feeds/trending.${format}`, trendingFeed(ctx, format));
      app.get(`/feeds/search.${format}`, { config: rateLimit(ctx.config, 'searchFeed') }, searchFeed(ctx, format));
    }
    app.get<{ Params: { file: string } }>('/feeds/c/:file', categoryFeed(ctx));
    app.get('/feeds', (_req, reply) =>
      reply.type('text/html; charset=utf-8').header('cache-control', CACHE_CONTROL).send(feedsIndex(ctx).value),
    );
  };
}
