/**
 * The browsing pages: the daily feed (`/`, `/papers`, `/papers/date|week|month/...`),
 * trending, and category pages (`/c/:category`). Each handler validates its
 * path and query, reads one page of entries, and renders cards.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import {
  adjacentAnnouncedDays,
  adjacentFeaturedDays,
  expandCategoryFilter,
  FEED_SORTS,
  latestAnnouncedDay,
  latestFeaturedDay,
  listAnnounced,
  listFeatured,
  listTrending,
  type FeedPage,
  type FeedSort,
} from '../feeds/feed.js';
import { TRENDING } from '../feeds/trending.js';
import { isDay, parsePeriod, periodContaining, type Period, type PeriodKind } from '../feeds/periods.js';
import { categoryTitle } from '../papers/taxonomy.js';
import { paperCard } from './card.js';
import { longDay, longMonth, shortDay } from './dates.js';
import { sendError } from './errors.js';
import { html, SafeHtml } from './html.js';
import { layout, type AlternateFeed } from './layout.js';
import { PageCache } from './page-cache.js';
import { applyViewerFilter, hiddenNote, viewerFilter } from './for-you-pages.js';
import type { PersonalFilter } from '../personal/not-interested.js';

export const PAGE_SIZE = 50;

const feedQuerySchema = z
  .object({
    category: z.string().max(40).optional(),
    sort: z.enum(FEED_SORTS as [FeedSort, ...FeedSort[]]).optional(),
    page: z.coerce.number().int().min(1).max(10_000).optional(),
    date: z.string().optional(),
  })
  .passthrough();

interface FeedQuery {
  /** The category or archive as written, and what it expands to. */
  category?: { name: string; categories: string[] };
  sort: FeedSort;
  page: number;
  date?: string;
}

/** Validates the query string shared by feed pages; sends a 400 page and returns null when bad. */
function parseFeedQuery(req: FastifyRequest, reply: FastifyReply): FeedQuery | null {
  const parsed = feedQuerySchema.safeParse(req.query);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    sendError(req, reply, 400, `Invalid parameters: ${problems}`);
    return null;
  }
  const { category, sort = 'trending', page = 1, date } = parsed.data;
  let expanded: FeedQuery['category'];
  if (category !== undefined && category !== '') {
    const categories = expandCategoryFilter(category);
    if (categories === undefined) {
      sendError(req, reply, 400, `Unknown category "${category}". Use an arXiv category such as cs.LG or an archive such as hep-th.`);
      return null;
    }
    expanded = { name: category, categories };
  }
  if (date !== undefined && date !== '' && !isDay(date)) {
    sendError(req, reply, 400, `Invalid date "${date}": use YYYY-MM-DD.`);
    return null;
  }
  return { category: expanded, sort, page, date: date === '' ? undefined : date };
}

/** The query string for links that keep the current filter and sort. */
function keep(query: FeedQuery, overrides: Record<string, string | number | undefined> = {}): string {
  const params = new URLSearchParams();
  const values: Record<string, string | number | undefined> = {
    category: query.category?.name,
    sort: query.sort === 'trending' ? undefined : query.sort,
    date: query.date,
    ...overrides,
  };
  for (const [k, v] of Object.entries(values)) if (v !== undefined && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s === '' ? '' : `?${s}`;
}

function periodLabel(period: Period): string {
  if (period.kind === 'date') return longDay(period.id);
  if (period.kind === 'month') return longMonth(period.from);
  return `Week ${Number(period.id.slice(6))} of ${period.id.slice(0, 4)} (${shortDay(period.from)} – ${shortDay(period.to)})`;
}

function filterForm(ctx: AppContext, action: string, query: FeedQuery, withCategory = true): SafeHtml {
  const configured = [...ctx.config.arxivCategories].sort();
  const current = query.category?.name;
  if (current !== undefined && !configured.includes(current)) configured.unshift(current);
  return html`<form class="filters" method="get" action="${action}" aria-label="Filter and sort">
${
  withCategory
    ? html`<label>Category
<select name="category">
<option value="">All categories</option>
${configured.map((c) => html`<option value="${c}"${c === current ? html` selected` : ''}>${c}</option>`)}
</select></label>`
    : ''
}
<label>Sort
<select name="sort">
<option value="trending"${query.sort === 'trending' ? html` selected` : ''}>Trending</option>
<option value="newest"${query.sort === 'newest' ? html` selected` : ''}>Newest</option>
</select></label>
<button type="submit" class="secondary">Apply</button>
</form>`;
}

function cardList(result: FeedPage, label: string): SafeHtml {
  return html`<ol class="cards" aria-label="${label}">${result.entries.map((e) => paperCard(e))}</ol>`;
}

function pager(path: string, query: FeedQuery, total: number): SafeHtml {
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  if (pages === 1) return html``;
  const prev = query.page > 1 ? html`<a rel="prev" href="${path}${keep(query, { page: query.page - 1 === 1 ? undefined : query.page - 1 })}">← Previous page</a>` : html`<span></span>`;
  const next = query.page < pages ? html`<a rel="next" href="${path}${keep(query, { page: query.page + 1 })}">Next page →</a>` : html`<span></span>`;
  return html`<nav class="pager" aria-label="Pages">${prev}<span class="muted small">Page ${query.page} of ${pages}</span>${next}</nav>`;
}

function feedAlternates(base: string, label: string, query: FeedQuery): AlternateFeed[] {
  const q = query.category ? `?category=${encodeURIComponent(query.category.name)}` : '';
  return [
    { title: `${label} (RSS)`, href: `/feeds/${base}.rss${q}`, type: 'application/rss+xml' },
    { title: `${label} (Atom)`, href: `/feeds/${base}.atom${q}`, type: 'application/atom+xml' },
  ];
}

type PageHandler = (req: FastifyRequest, reply: FastifyReply) => Promise<SafeHtml | FastifyReply>;

/**
 * Serves a page from the page cache, or renders it with `handler` and caches
 * it. Handlers that answer an error or a redirect send it themselves.
 */
function cachedPage(cache: PageCache, handler: PageHandler): (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> {
  return async (req, reply) => {
    if (await cache.trySend(req, reply)) return reply;
    const version = await cache.snapshot();
    const result = await handler(req, reply);
    return result instanceof SafeHtml ? cache.store(req, reply, version, result.value) : result;
  };
}

const KIND_NAMES: Record<PeriodKind, string> = { date: 'day', week: 'week', month: 'month' };

/** The daily feed of a period: tabs, previous/next with papers, filters, cards, pager. */
async function renderPeriod(ctx: AppContext, period: Period, query: FeedQuery, canonical: string, filter: PersonalFilter | null): Promise<SafeHtml> {
  const { database } = ctx;
  const categories = query.category?.categories;
  const result = await listFeatured(database, {
    from: period.from,
    to: period.to,
    categories,
    sort: query.sort,
    limit: PAGE_SIZE,
    offset: (query.page - 1) * PAGE_SIZE,
  });
  // A signed-in viewer's muted and dismissed papers leave the page (it is never cached for them).
  const shown = await applyViewerFilter(filter, result.entries);
  const adjacent = await adjacentFeaturedDays(database, period, categories);
  const linkTo = (day: string | null): string | null =>
    day === null ? null : `/papers/${period.kind}/${periodContaining(period.kind, day).id}${keep(query)}`;
  const previous = linkTo(adjacent.previous);
  const next = linkTo(adjacent.next);
  const tab = (kind: PeriodKind, label: string): SafeHtml => {
    const target = periodContaining(kind, period.from);
    return kind === period.kind
      ? html`<a aria-current="page" href="/papers/${kind}/${target.id}${keep(query)}">${label}</a>`
      : html`<a href="/papers/${kind}/${target.id}${keep(query)}">${label}</a>`;
  };
  const heading = `Daily papers${query.category ? ` in ${query.category.name}` : ''}`;
  const kindName = KIND_NAMES[period.kind];
  const body = html`<div class="feed-head">
<h1>${heading} <span class="muted small">${periodLabel(period)}</span></h1>
<nav class="period-tabs" aria-label="Period">${tab('date', 'Day')}${tab('week', 'Week')}${tab('month', 'Month')}</nav>
</div>
<nav class="day-nav" aria-label="Previous and next ${kindName}">
${previous ? html`<a rel="prev" href="${previous}">← Previous ${kindName}</a>` : html`<span class="muted">No earlier papers</span>`}
${next ? html`<a rel="next" href="${next}">Next ${kindName} →</a>` : html`<span class="muted">No later papers</span>`}
</nav>
${filterForm(ctx, canonical, query)}
${
  result.total === 0
    ? html`<div class="empty"><p>No papers were featured ${period.kind === 'date' ? 'on this day' : `in this ${kindName}`}${query.category ? ` in ${query.category.name}` : ''}.</p>
${previous || next ? html`<p>Use the previous and next links above to reach the nearest ${kindName} with papers.</p>` : ''}</div>`
    : html`<p class="muted small">${result.total} ${result.total === 1 ? 'paper' : 'papers'}${result.total > PAGE_SIZE ? `, ${PAGE_SIZE} per page` : ''}, sorted by ${query.sort}.</p>
${cardList({ ...result, entries: shown.kept }, `Papers of ${periodLabel(period)}`)}${hiddenNote(shown.hidden)}
${pager(canonical, query, result.total)}`
}`;
  return layout(
    {
      title: `${heading}, ${periodLabel(period)} · Paperboy`,
      description: `Papers featured ${period.kind === 'date' ? 'on' : 'in'} ${periodLabel(period)}.`,
      section: 'daily',
      alternates: feedAlternates('daily', 'Daily papers', query),
      canonical: `${canonical}${keep(query)}`,
      math: true,
    },
    body,
  );
}

/** The front page of an instance with no featured papers: how to get some. */
async function renderEmptyInstance(ctx: AppContext): Promise<SafeHtml> {
  const papers = (await ctx.database.db.selectFrom('papers').select('id').limit(1).executeTakeFirst()) !== undefined;
  const categories = ctx.config.arxivCategories.join(', ') || 'none';
  const body = papers
    ? html`<h1>No featured papers yet</h1>
<div class="notice"><p>This instance has papers, but none is featured yet. New announcements in the configured categories
(<code>ARXIV_CATEGORIES</code>: ${categories}) are featured on their announcement day.</p></div>
<p>Every paper is searchable: try the search box above, or browse a category such as <a href="/c/cs.LG">cs.LG</a>.</p>`
    : html`<h1>Welcome to Paperboy</h1>
<p>This instance has no papers yet. Get some in one of two ways:</p>
<ul>
<li>Import files you have (arXiv API Atom, OAI-PMH XML, <code>.abs</code> files, daily listings,
the Kaggle <code>arxiv-metadata-oai-snapshot.json</code>, BEIR <code>corpus.jsonl.gz</code>):
<pre>npx paperboy import path/to/files</pre></li>
<li>Harvest the newest papers of your categories from arXiv (needs internet access):
<pre>npx paperboy harvest --from 2026-11-01</pre>
The scheduler also harvests every day while <code>npm start</code> runs.</li>
</ul>`;
  return layout({ title: 'Paperboy', section: 'daily' }, body);
}

/** Registers the browsing routes. */
export function feedRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    const cache = new PageCache(ctx.database);
    const latest: PageHandler = async (req, reply) => {
      // `/papers?q=` is the same search as `/search?q=`; one canonical results page.
      if (req.url.startsWith('/papers?') && 'q' in (req.query as Record<string, unknown>)) {
        return reply.redirect(`/search${req.url.slice('/papers'.length)}`, 302);
      }
      const query = parseFeedQuery(req, reply);
      if (query === null) return reply;
      const day = await latestFeaturedDay(ctx.database, query.category?.categories);
      if (day === null) {
        if (query.category) return renderPeriod(ctx, periodContaining('date', new Date().toISOString().slice(0, 10)), query, '/papers', await viewerFilter(ctx, req));
        return renderEmptyInstance(ctx);
      }
      return renderPeriod(ctx, periodContaining('date', day), query, `/papers/date/${day}`, await viewerFilter(ctx, req));
    };
    app.get('/', cachedPage(cache, latest));
    app.get('/papers', cachedPage(cache, latest));

    for (const kind of ['date', 'week', 'month'] as const) {
      app.get(`/papers/${kind}/:period`, cachedPage(cache, async (req, reply) => {
        const period = parsePeriod(kind, (req.params as { period: string }).period);
        if (period === null) {
          const forms = { date: 'YYYY-MM-DD', week: 'YYYY-Www (ISO week, e.g. 2026-W48)', month: 'YYYY-MM' };
          return sendError(req, reply, 404, `"${(req.params as { period: string }).period}" is not a ${KIND_NAMES[kind]}: use ${forms[kind]}.`);
        }
        const query = parseFeedQuery(req, reply);
        if (query === null) return reply;
        return renderPeriod(ctx, period, query, `/papers/${kind}/${period.id}`, await viewerFilter(ctx, req));
      }));
    }

    app.get('/papers/trending', cachedPage(cache, async (req, reply) => {
      const query = parseFeedQuery(req, reply);
      if (query === null) return reply;
      const result = await listTrending(ctx.database, {
        categories: query.category?.categories,
        limit: PAGE_SIZE,
        offset: (query.page - 1) * PAGE_SIZE,
      });
      const shown = await applyViewerFilter(await viewerFilter(ctx, req), result.entries);
      const asOf = new Date(result.reference).toISOString().slice(0, 10);
      const heading = `Trending papers${query.category ? ` in ${query.category.name}` : ''}`;
      const body = html`<div class="feed-head"><h1>${heading}</h1></div>
<details class="small muted"><summary>Papers featured in the last ${TRENDING.windowDays} days up to ${longDay(asOf)}, ranked by upvotes and discussion with time decay.</summary>
<p>Score = (upvotes + ${TRENDING.commentWeight} × comments + 1) / (hours since featured + ${TRENDING.offsetHours})<sup>${TRENDING.gravity}</sup>.
A new paper starts near the top and sinks unless people vote for it or discuss it.</p></details>
<form class="filters" method="get" action="/papers/trending" aria-label="Filter">
<label>Category
<select name="category">
<option value="">All categories</option>
${[...ctx.config.arxivCategories].sort().map((c) => html`<option value="${c}"${c === query.category?.name ? html` selected` : ''}>${c}</option>`)}
</select></label>
<button type="submit" class="secondary">Apply</button>
</form>
${
  result.total === 0
    ? html`<div class="empty"><p>Nothing is trending${query.category ? ` in ${query.category.name}` : ''}: no papers were featured in the last week.</p></div>`
    : html`${cardList({ ...result, entries: shown.kept }, 'Trending papers')}${hiddenNote(shown.hidden)}${pager('/papers/trending', { ...query, sort: 'trending' }, result.total)}`
}`;
      return layout(
        {
          title: `${heading} · Paperboy`,
          description: 'Papers trending this week.',
          section: 'trending',
          alternates: feedAlternates('trending', 'Trending papers', query),
          math: true,
        },
        body,
      );
    }));

    app.get('/c/:category', cachedPage(cache, async (req, reply) => {
      const name = (req.params as { category: string }).category;
      const categories = expandCategoryFilter(name);
      if (categories === undefined) return sendError(req, reply, 404, `Unknown category "${name}".`);
      const query = parseFeedQuery(req, reply);
      if (query === null) return reply;
      const day = query.date ?? await latestAnnouncedDay(ctx.database, categories);
      const title = categoryTitle(name);
      const path = `/c/${name}`;
      const alternates: AlternateFeed[] = [
        { title: `${name} (RSS)`, href: `/feeds/c/${name}.rss`, type: 'application/rss+xml' },
        { title: `${name} (Atom)`, href: `/feeds/c/${name}.atom`, type: 'application/atom+xml' },
      ];
      if (day === null) {
        return layout({ title: `${title} · Paperboy`, alternates }, html`<h1>${title}</h1><div class="empty"><p>No papers in ${name} yet.</p></div>`);
      }
      const result = await listAnnounced(ctx.database, {
        day,
        categories,
        sort: query.sort,
        limit: PAGE_SIZE,
        offset: (query.page - 1) * PAGE_SIZE,
      });
      const shown = await applyViewerFilter(await viewerFilter(ctx, req), result.entries);
      const adjacent = await adjacentAnnouncedDays(ctx.database, day, categories);
      const own = { ...query, category: undefined };
      const dayLink = (d: string): string => `${path}${keep(own, { date: d })}`;
      const body = html`<div class="feed-head"><h1>${title} <span class="muted small">${longDay(day)}</span></h1></div>
<p class="muted small">Every paper announced in ${name} on this day, featured or not. <a href="/following?follow=${encodeURIComponent(`category:${name}`)}">Follow ${name}</a></p>
<nav class="day-nav" aria-label="Previous and next day">
${adjacent.previous ? html`<a rel="prev" href="${dayLink(adjacent.previous)}">← ${shortDay(adjacent.previous)}</a>` : html`<span class="muted">No earlier papers</span>`}
${adjacent.next ? html`<a rel="next" href="${dayLink(adjacent.next)}">${shortDay(adjacent.next)} →</a>` : html`<span class="muted">No later papers</span>`}
</nav>
${filterForm(ctx, path, own, false)}
${
  result.total === 0
    ? html`<div class="empty"><p>No papers were announced in ${name} on ${longDay(day)}.</p></div>`
    : html`<p class="muted small">${result.total} ${result.total === 1 ? 'paper' : 'papers'}.</p>
${cardList({ ...result, entries: shown.kept }, `Papers in ${name}`)}${hiddenNote(shown.hidden)}
${pager(path, { ...own, date: day } as FeedQuery, result.total)}`
}`;
      return layout({ title: `${title}, ${longDay(day)} · Paperboy`, description: `New papers in ${title}.`, alternates, math: true }, body);
    }));
  };
}
