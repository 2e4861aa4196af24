/**
 * The search page `/search?q=`: one box with filters (category, announcement
 * date range, featured only) and a mode (hybrid by default, keyword, or by
 * meaning), highlighted snippets, pagination, and clear empty and error states. Bad query syntax never fails: the parser falls back
 * to plain terms, and a query with nothing searchable says so.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { entriesByIds, expandCategoryFilter } from '../feeds/feed.js';
import { isDay } from '../feeds/periods.js';
import { MEANING_WINDOW, searchPapers, SEARCH_MODES, type SearchMode, type SearchResult } from '../search/search.js';
import { paperCard } from './card.js';
import { hideForViewer } from './for-you-pages.js';
import { html, type SafeHtml } from './html.js';
import { layout } from './layout.js';
import { rateLimit } from './rate-limits.js';
import { saveSearchForm } from './saved-pages.js';

export const RESULTS_PER_PAGE = 20;
const MAX_PAGE = 50;

const searchQuerySchema = z.object({
  q: z.string().max(500, 'must be at most 500 characters').optional(),
  category: z.string().max(40).optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  featured: z.enum(['1', 'on', 'true']).optional(),
  mode: z.enum(SEARCH_MODES, { error: 'must be hybrid, keyword or semantic' }).optional(),
  page: z.coerce.number().int().min(1).max(MAX_PAGE, `must be at most ${MAX_PAGE}`).optional(),
});

interface SearchForm {
  q: string;
  category: string;
  from: string;
  to: string;
  featured: boolean;
  mode: SearchMode;
  page: number;
}

const MODE_LABELS: Readonly<Record<SearchMode, string>> = {
  hybrid: 'Hybrid (words and meaning)',
  keyword: 'Keyword',
  semantic: 'By meaning',
};

function searchForm(form: SearchForm): SafeHtml {
  return html`<form class="filters" method="get" action="/search" role="search" aria-label="Search papers">
<label style="flex: 1 1 100%">Query
<input type="search" name="q" value="${form.q}" placeholder='e.g. "diffusion model" -survey author:hinton cat:cs.LG'></label>
<label>Category or archive
<input type="text" name="category" value="${form.category}" placeholder="cs.LG" size="10"></label>
<label>Announced from
<input type="date" name="from" value="${form.from}"></label>
<label>to
<input type="date" name="to" value="${form.to}"></label>
<label>Mode
<select name="mode">${(['hybrid', 'keyword', 'semantic'] as const).map((m) => html`<option value="${m}"${form.mode === m ? html` selected` : ''}>${MODE_LABELS[m]}</option>`)}</select></label>
<label class="check"><input type="checkbox" name="featured" value="1"${form.featured ? html` checked` : ''}> Featured only</label>
<button type="submit">Search</button>
</form>`;
}

const TIPS = html`<section aria-labelledby="tips"><h2 id="tips">Search tips</h2>
<ul>
<li>All words must match: <code>graph neural networks</code></li>
<li>Exact phrase: <code>"large language model"</code>; leave words out: <code>transformer -vision</code></li>
<li>Fields: <code>author:bengio</code>, <code>title:diffusion</code>, <code>cat:cs.CL</code> or a whole archive <code>cat:math</code></li>
<li>Titles count most, then authors, then abstracts.</li>
<li>Hybrid (the default) also finds papers that say the same thing in other words; <em>By meaning</em> ranks by meaning alone, <em>Keyword</em> by the words alone.</li>
</ul></section>`;

function pageLink(form: SearchForm, page: number): string {
  const params = new URLSearchParams({ q: form.q });
  if (form.category) params.set('category', form.category);
  if (form.from) params.set('from', form.from);
  if (form.to) params.set('to', form.to);
  if (form.featured) params.set('featured', '1');
  if (form.mode !== 'hybrid') params.set('mode', form.mode);
  if (page > 1) params.set('page', String(page));
  return `/search?${params.toString()}`;
}

function render(form: SearchForm, content: SafeHtml, status: 'ok' | 'error' = 'ok'): SafeHtml {
  const title = form.q ? `${form.q} · Search · Paperboy` : 'Search · Paperboy';
  const alternates =
    form.q && status === 'ok'
      ? [
          { title: `Search: ${form.q} (RSS)`, href: `/feeds/search.rss?q=${encodeURIComponent(form.q)}`, type: 'application/rss+xml' as const },
          { title: `Search: ${form.q} (Atom)`, href: `/feeds/search.atom?q=${encodeURIComponent(form.q)}`, type: 'application/atom+xml' as const },
        ]
      : [];
  return layout(
    { title, section: 'search', query: form.q, alternates, math: true },
    html`<h1>Search papers</h1>${searchForm(form)}${content}`,
  );
}

const ORDER: Readonly<Record<SearchMode, string>> = {
  keyword: 'best matches first',
  semantic: 'closest in meaning first',
  hybrid: 'best matches by words and meaning first',
};

function resultCount(result: SearchResult, total: number): string {
  if (result.mode === 'keyword') return `${result.totalIsLowerBound ? 'More than ' : ''}${total.toLocaleString('en')} ${total === 1 ? 'result' : 'results'}`;
  return `${result.totalIsLowerBound ? `The ${MEANING_WINDOW} best` : total.toLocaleString('en')} ${total === 1 ? 'result' : 'results'}`;
}

/** Says so when a search by meaning ran by keyword only. */
function fallbackNote(result: SearchResult): SafeHtml | '' {
  if (result.semanticUnavailable === undefined) return '';
  return html`<div class="notice" role="note"><p>Searched by keyword only: ${result.semanticUnavailable}.</p></div>`;
}

/** Renders `/search` for the request's query string. */
export async function renderSearchPage(ctx: AppContext, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const send = (page: SafeHtml, code = 200): FastifyReply => reply.code(code).type('text/html; charset=utf-8').send(page.value);
  const raw = req.query as Record<string, unknown>;
  const text = (v: unknown): string => (typeof v === 'string' ? v : '');
  const form: SearchForm = {
    q: text(raw.q).trim(),
    category: text(raw.category).trim(),
    from: text(raw.from),
    to: text(raw.to),
    featured: raw.featured !== undefined,
    mode: 'hybrid',
    page: 1,
  };
  const parsed = searchQuerySchema.safeParse(raw);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  if (parsed.success) {
    form.page = parsed.data.page ?? 1;
    form.mode = parsed.data.mode ?? 'hybrid';
  }
  if (form.from && !isDay(form.from)) problems.push(`from: "${form.from}" is not a date (YYYY-MM-DD)`);
  if (form.to && !isDay(form.to)) problems.push(`to: "${form.to}" is not a date (YYYY-MM-DD)`);
  if (form.from && form.to && isDay(form.from) && isDay(form.to) && form.from > form.to) problems.push('from: must not be after "to"');
  const categories = form.category ? expandCategoryFilter(form.category) : undefined;
  if (form.category && categories === undefined) problems.push(`category: unknown category "${form.category}" (use e.g. cs.LG or an archive such as math)`);
  if (problems.length > 0) {
    return send(
      render(form, html`<div class="notice error" role="alert"><p>Please fix the search:</p><ul>${problems.map((p) => html`<li>${p}</li>`)}</ul></div>`, 'error'),
      400,
    );
  }
  if (form.q === '') return send(render(form, TIPS));

  const result = await searchPapers(ctx, form.q, {
    mode: form.mode,
    limit: RESULTS_PER_PAGE,
    offset: (form.page - 1) * RESULTS_PER_PAGE,
    ...(categories !== undefined ? { categories } : {}),
    ...(form.from ? { from: form.from } : {}),
    ...(form.to ? { to: form.to } : {}),
    featuredOnly: form.featured,
  });
  if (result.problem !== undefined) {
    return send(render(form, html`<div class="notice" role="status"><p>Nothing to search for: ${result.problem}.</p></div>${TIPS}`));
  }
  const total = result.total ?? result.hits.length;
  if (result.hits.length === 0) {
    return send(
      render(
        form,
        html`<div class="empty" role="status"><p>No papers match <strong>${form.q}</strong>${form.page > 1 ? ' on this page' : ''}.</p>
<p>Try fewer words, remove filters, or check the spelling.</p></div>${TIPS}`,
      ),
    );
  }
  // A signed-in viewer's muted and dismissed papers leave their results.
  const entries = await hideForViewer(ctx, req, await entriesByIds(ctx.database, result.hits.map((h) => h.paperId)));
  const snippets = new Map(result.hits.map((h) => [h.paperId, h.snippet]));
  const pages = Math.min(MAX_PAGE, Math.ceil(total / RESULTS_PER_PAGE));
  const first = (form.page - 1) * RESULTS_PER_PAGE + 1;
  const content = html`${fallbackNote(result)}${saveSearchForm(ctx, req, reply, { q: form.q, mode: form.mode, category: form.category, featured: form.featured })}<p class="muted small" role="status">${resultCount(result, total)}; showing ${first}–${first + result.hits.length - 1}, ${ORDER[result.mode]}.</p>
<ol class="cards" aria-label="Search results">${entries.map((e) => paperCard(e, { snippet: snippets.get(e.paper.id) }))}</ol>
${
  pages > 1
    ? html`<nav class="pager" aria-label="Result pages">
${form.page > 1 ? html`<a rel="prev" href="${pageLink(form, form.page - 1)}">← Previous</a>` : html`<span></span>`}
<span class="muted small">Page ${form.page} of ${pages}</span>
${form.page < pages ? html`<a rel="next" href="${pageLink(form, form.page + 1)}">Next →</a>` : html`<span></span>`}
</nav>`
    : ''
}`;
  return send(render(form, content));
}

/** Registers `/search`, rate-limited per client because every query costs index work. */
export function searchRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    app.get('/search', { config: rateLimit(ctx.config, 'searchPage') }, (req, reply) => renderSearchPage(ctx, req, reply));
  };
}
