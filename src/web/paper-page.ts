/**
 * The paper page `/papers/:id` (old-style ids: `/papers/:archive/:num`), its
 * Markdown, BibTeX and RIS variants (`.md`, `.bib`, `.ris`), and the form
 * action that fetches a paper this instance does not have from arXiv.
 *
 * The feed routes own `/papers/date|week|month/...` and `/papers/trending`;
 * find-my-way prefers static segments, so those never reach these handlers.
 */
import { createHash } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { ensurePaper } from '../arxiv/fetch-paper.js';
import type { AppContext } from '../context.js';
import { entryByArxivId, type FeaturedInfo } from '../feeds/feed.js';
import { parseArxivId } from '../papers/arxiv-id.js';
import { arxivAbsUrl, isArxivPaperId, toBibtex, toRis } from '../papers/citation.js';
import { computeDigest, storedDigest, type Digest } from '../papers/digest.js';
import { paperMarkdown, type PaperDigest } from '../papers/markdown.js';
import type { Paper } from '../papers/repository.js';
import { findCategory } from '../papers/taxonomy.js';
import { categoryChips, featuredLabel, lead, paperPath } from './card.js';
import { claimsPagePart } from './claim-pages.js';
import { collectionsPart } from './collection-pages.js';
import { similarPart } from './similar-pages.js';
import { discussionSection, loadDiscussion, viewerEtagPart } from './comment-routes.js';
import { csrfProtection, type CsrfProtection } from './csrf.js';
import { shortDay } from './dates.js';
import { sendError } from './errors.js';
import { html, type SafeHtml } from './html.js';
import { rateLimit } from './rate-limits.js';
import { layout, type AlternateFeed } from './layout.js';
import { curationPart } from './moderation-pages.js';
import { upvoteBox } from './upvote-routes.js';

type Format = 'html' | 'md' | 'bib' | 'ris';

const CONTENT_TYPES: Record<Exclude<Format, 'html'>, string> = {
  md: 'text/markdown; charset=utf-8',
  bib: 'application/x-bibtex; charset=utf-8',
  ris: 'application/x-research-info-systems; charset=utf-8',
};
const SUFFIX_RE = /\.(md|bib|ris)$/;
const ID_EXAMPLES = 'arXiv ids look like 2106.09685 or hep-th/9901001';


/** "31 Mar 2007" in a `<time>` element. */
function day(iso: string | null): SafeHtml | string {
  if (iso === null) return '';
  const shown = shortDay(iso);
  return shown === iso ? iso : html`<time datetime="${iso}">${shown}</time>`;
}

/** A readable name for arXiv's licence URLs ("CC BY 4.0"), else the URL. */
export function licenceName(url: string): string {
  if (/arxiv\.org\/licenses\/nonexclusive-distrib/i.test(url)) return 'arXiv non-exclusive distribution licence';
  const zero = /creativecommons\.org\/publicdomain\/zero\/([\d.]+)/i.exec(url);
  if (zero) return `CC0 ${zero[1] ?? ''}`;
  const cc = /creativecommons\.org\/licenses\/([a-z-]+)\/([\d.]+)/i.exec(url);
  if (cc) return `CC ${(cc[1] ?? '').toUpperCase()} ${cc[2] ?? ''}`;
  return url;
}

const LINK_NAMES: Record<string, string> = { code: 'Code', project: 'Project page', data: 'Data', other: 'Link' };

/** "github.com/org/repo" from a URL, for link text. */
function shortUrl(url: string): string {
  return url.replace(/^[a-z]+:\/\/(www\.)?/i, '').replace(/\/$/, '');
}

// Part of every paper ETag, so a new version of Paperboy (new markup) never
// answers 304 with a page rendered by the old one.
const RENDER_VERSION = `${process.pid}-${Date.now()}`;

/**
 * A weak ETag from everything the page shows that can change, instead of a hash
 * of the rendered body: hashing 10 kB of HTML per request was 15% of its cost.
 */
function pageEtag(paper: Paper, featured: FeaturedInfo | null, format: string, extra: readonly string[] = []): string {
  const parts = [RENDER_VERSION, format, paper.id, paper.modifiedAt, paper.upvotes, paper.commentCount, ...extra];
  if (featured) parts.push(featured.on, featured.source, featured.by ?? '', featured.at);
  return `W/"${createHash('sha1').update(parts.join('|')).digest('base64url')}"`;
}

/** The statement shown with the summary: who made it, how, from what and when. */
function digestLabel(paper: Paper, digest: Digest): string {
  const when = digest.createdAt === null ? 'computed for this view' : `computed on ${digest.createdAt.slice(0, 10)}`;
  return (
    `Computed locally by Paperboy's built-in extractive summariser (key sentences of the abstract), not written by a person or an LLM. ` +
    `Method: ${digest.model}, from the abstract of v${paper.version}, ${when}.`
  );
}

async function digestOf(ctx: AppContext, paper: Paper): Promise<PaperDigest> {
  const digest = (await storedDigest(ctx.database, paper.id)) ?? computeDigest(paper.title, paper.abstract);
  return { sentences: digest.sentences, keyphrases: digest.keyphrases, label: digestLabel(paper, digest) };
}

/** Absolute http(s) URLs only: links come from imported text and must never become `javascript:`. */
function safeHref(url: string): string | null {
  return /^https?:\/\//i.test(url) ? url : null;
}

/** Root-relative URL of an author's page (their exact parsed name). */
export function authorPath(name: string): string {
  return `/authors/${encodeURIComponent(name)}`;
}

/**
 * What other parts of the site add to a paper page for this request (claims,
 * collections, curation): loaded once, for both the ETag and the page.
 */
export interface PaperPagePart {
  /** Changes whenever what this part shows changes: part of the page's ETag. */
  etag: string;
  /** A panel for the side column, after the upvotes. */
  side?: SafeHtml;
  /** When what anyone sees of this part last changed (ISO), for Last-Modified. */
  lastChange?: string | null;
  /** Verified authors of the paper: parsed author name → username. */
  verifiedAuthors?: ReadonlyMap<string, string>;
}

export type PaperPagePartLoader = (ctx: AppContext, req: FastifyRequest, reply: FastifyReply, paper: Paper) => Promise<PaperPagePart>;

/** The parts every paper page shows, in side-column order. */
const PAGE_PARTS: readonly PaperPagePartLoader[] = [claimsPagePart, collectionsPart, curationPart, similarPart];

function authorsBlock(paper: Paper, verified: ReadonlyMap<string, string>): SafeHtml {
  if (paper.authors.length === 0) return html`<p class="authors muted">Authors unknown</p>`;
  return html`<ul class="author-list" aria-label="Authors">${paper.authors.map(
    (a) =>
      html`<li><a href="${authorPath(a.name)}">${a.name}</a>${
        verified.has(a.name) ? html` <a class="verified-author small" href="/u/${verified.get(a.name) ?? ''}" title="Verified author on this instance">✓ ${verified.get(a.name) ?? ''}</a>` : ''
      }${
        a.affiliations.length > 0 ? html` <span class="muted small">(${a.affiliations.join('; ')})</span>` : ''
      }</li>`,
  )}</ul>`;
}

function factsPanel(paper: Paper, arxiv: boolean): SafeHtml {
  const primary = paper.primaryCategory === null ? undefined : findCategory(paper.primaryCategory);
  const fact = (label: string, value: SafeHtml | string | null | undefined): SafeHtml | string =>
    value === null || value === undefined || value === '' ? '' : html`<dt>${label}</dt><dd>${value}</dd>\n`;
  return html`<section class="panel" aria-labelledby="facts-h"><h2 id="facts-h">Details</h2>
<dl class="facts">
${fact(arxiv ? 'arXiv id' : 'Id', `${paper.arxivId}${arxiv ? `v${paper.version}` : ''}`)}
${fact('First version', day(paper.publishedAt))}
${paper.updatedAt !== null && paper.updatedAt !== paper.publishedAt ? fact('Latest update', html`v${paper.version}, ${day(paper.updatedAt)}`) : ''}
${fact('Announced', paper.announcedOn === null ? null : html`${day(paper.announcedOn)}${paper.announcedEstimated ? ' (estimated)' : ''}`)}
${fact('Primary category', paper.primaryCategory === null ? null : html`<a href="/c/${paper.primaryCategory}">${primary ? `${primary.name} (${paper.primaryCategory})` : paper.primaryCategory}</a>`)}
${fact('DOI', paper.doi === null ? null : html`<a href="https://doi.org/${paper.doi.split('/').map(encodeURIComponent).join('/')}" rel="noopener">${paper.doi}</a>`)}
${fact('Journal ref', paper.journalRef)}
${fact('Comments', paper.comments === null ? null : html`<span class="tex">${paper.comments}</span>`)}
${fact('Report no.', paper.reportNo)}
${fact('MSC class', paper.mscClass)}
${fact('ACM class', paper.acmClass)}
${fact('Licence', paper.license === null ? null : safeHref(paper.license) ? html`<a href="${paper.license}" rel="license noopener">${licenceName(paper.license)}</a>` : paper.license)}
${fact('arXiv submitter', paper.submitter)}
</dl></section>`;
}

function versionsPanel(paper: Paper, arxiv: boolean): SafeHtml | string {
  if (paper.versions.length === 0) return '';
  return html`<section class="panel" aria-labelledby="versions-h"><h2 id="versions-h">Versions</h2>
<ol class="versions">${paper.versions.map(
    (v) =>
      html`<li>${arxiv ? html`<a href="${arxivAbsUrl(paper.arxivId)}v${v.version}" rel="noopener">v${v.version}</a>` : `v${v.version}`} ${day(v.submittedAt)}${v.size ? html` <span class="muted small">(${v.size})</span>` : ''}</li>`,
  )}</ol></section>`;
}

function linksPanel(paper: Paper, arxiv: boolean): SafeHtml {
  const extra = paper.links.flatMap((l) => {
    const href = safeHref(l.url);
    return href === null ? [] : [html`<li>${LINK_NAMES[l.kind] ?? 'Link'}: <a href="${href}" rel="nofollow noopener">${shortUrl(href)}</a></li>`];
  });
  return html`<section class="panel" aria-labelledby="links-h"><h2 id="links-h">Links</h2>
<ul class="link-list">
${arxiv ? html`<li><a href="${arxivAbsUrl(paper.arxivId)}" rel="noopener">arXiv abstract page</a></li>
<li><a href="https://arxiv.org/pdf/${paper.arxivId}" rel="noopener">PDF</a></li>` : ''}
${extra}
${extra.length === 0 ? html`<li class="muted small">No code or project links found in the abstract or comments.</li>` : ''}
</ul></section>`;
}

function summaryPanel(digest: PaperDigest): SafeHtml | string {
  if (digest.sentences.length === 0 && digest.keyphrases.length === 0) return '';
  return html`<section class="panel digest" aria-labelledby="summary-h"><h2 id="summary-h">Summary and keyphrases</h2>
<p class="small muted">${digest.label}</p>
${digest.sentences.length > 0 ? html`<ul class="summary">${digest.sentences.map((s) => html`<li class="tex">${s}</li>`)}</ul>` : ''}
${
  digest.keyphrases.length > 0
    ? html`<p class="keyphrases"><span class="label">Keyphrases</span> ${digest.keyphrases.map(
        (k) => html`<a class="chip" href="/search?q=${encodeURIComponent(`"${k}"`)}">${k}</a> `,
      )}</p>`
    : ''
}
</section>`;
}

function citePanel(paper: Paper, path: string): SafeHtml {
  return html`<section aria-labelledby="cite-h"><h2 id="cite-h">Cite</h2>
<p class="cite-links"><a class="button secondary" href="${path}.bib" download>BibTeX (.bib)</a>
<a class="button secondary" href="${path}.ris" download>RIS (.ris)</a>
<a class="button secondary" href="${path}.md">Markdown (.md)</a></p>
<pre role="region" tabindex="0" aria-label="BibTeX entry"><code>${toBibtex(paper)}</code></pre>
</section>`;
}

/** The paper page body. */
export function renderPaper(paper: Paper, featured: FeaturedInfo | null, digest: PaperDigest, parts: readonly PaperPagePart[], discussion?: SafeHtml): SafeHtml {
  const verified = new Map(parts.flatMap((p) => [...(p.verifiedAuthors ?? [])]));
  const arxiv = isArxivPaperId(paper.arxivId);
  const path = paperPath(paper.arxivId);
  const paragraphs = paper.abstract.split(/\n\s*\n/).filter((p) => p.trim() !== '');
  return html`<article class="paper" aria-labelledby="paper-title">
<header class="paper-head">
<p class="label">${arxiv ? `arXiv:${paper.arxivId}` : paper.arxivId}${paper.primaryCategory ? ` · ${paper.primaryCategory}` : ''}</p>
<h1 id="paper-title" class="tex">${paper.title}</h1>
${
  paper.withdrawn
    ? html`<div class="notice error" role="note"><p><strong>This paper has been withdrawn.</strong> Its authors withdrew it from arXiv; the record is kept so that links to it keep working.</p></div>`
    : ''
}
${authorsBlock(paper, verified)}
<p class="meta">
${paper.publishedAt ? html`<span>Submitted ${day(paper.publishedAt)}</span>` : ''}
${featured ? html`<span>${featuredLabel(featured)} on <a href="/papers/date/${featured.on}">${day(featured.on)}</a></span>` : ''}
<span><a href="#discussion">${paper.commentCount} ${paper.commentCount === 1 ? 'comment' : 'comments'}</a></span>
</p>
${paper.categories.length > 0 ? html`<p class="meta">${categoryChips(paper)}</p>` : ''}
</header>
<div class="paper-grid">
<div class="paper-main">
<section aria-labelledby="abstract-h"><h2 id="abstract-h">Abstract</h2>
<div class="abstract-text tex">${paragraphs.length > 0 ? paragraphs.map((p) => html`<p>${p.trim()}</p>`) : html`<p class="muted">No abstract.</p>`}</div>
</section>
${summaryPanel(digest)}
${citePanel(paper, path)}
${
  discussion ??
  html`<section id="discussion" aria-labelledby="discussion-h"><h2 id="discussion-h">Discussion</h2>
<p>${paper.commentCount === 0 ? 'No comments yet.' : `${paper.commentCount} ${paper.commentCount === 1 ? 'comment' : 'comments'}.`}</p>
</section>`
}
</div>
<aside class="paper-side" aria-label="About this paper">
<section class="panel" aria-labelledby="votes-h"><h2 id="votes-h">Upvotes</h2>
${upvoteBox(paper, 'page')}
</section>
${parts.map((p) => p.side ?? '')}
${linksPanel(paper, arxiv)}
${factsPanel(paper, arxiv)}
${versionsPanel(paper, arxiv)}
</aside>
</div>
</article>`;
}

/** The id a request names, which variant it asks for, and how arXiv would write it. */
interface RequestedId {
  /** As written in the URL, without the suffix. */
  raw: string;
  format: Format;
  /** Canonical id without version, or null when `raw` is not an id. */
  id: string | null;
}

function requestedId(rawWithSuffix: string): RequestedId {
  const suffix = SUFFIX_RE.exec(rawWithSuffix);
  const raw = suffix ? rawWithSuffix.slice(0, -suffix[0].length) : rawWithSuffix;
  const format: Format = suffix ? (suffix[1] as Format) : 'html';
  return { raw, format, id: parseArxivId(raw)?.id ?? null };
}

/** When the page last changed: the stored record, or its featuring if later. */
function lastModified(paper: Paper, featured: FeaturedInfo | null, changes: readonly (string | null | undefined)[] = []): Date {
  const times = [paper.modifiedAt, featured?.at, ...changes.map((c) => c ?? undefined)].map((t) => (t === undefined ? Number.NaN : Date.parse(t))).filter((t) => !Number.isNaN(t));
  // HTTP dates have whole seconds; round down so the comparison below is exact.
  return new Date(Math.floor(Math.max(0, ...times) / 1000) * 1000);
}

/** True when the client's copy is current (RFC 9110: If-None-Match, when sent, decides instead; @fastify/etag handles it). */
function notModified(req: FastifyRequest, modified: Date): boolean {
  if (req.headers['if-none-match'] !== undefined) return false;
  const since = req.headers['if-modified-since'];
  if (since === undefined) return false;
  const t = Date.parse(since);
  return !Number.isNaN(t) && modified.getTime() <= t;
}

function notFoundPage(ctx: AppContext, csrf: CsrfProtection, req: FastifyRequest, reply: FastifyReply, id: string): FastifyReply {
  if (!isArxivPaperId(id)) return sendError(req, reply, 404, `There is no paper ${id} in this Paperboy instance.`);
  const body = html`<h1>arXiv:${id} is not here yet</h1>
<div class="notice" role="status"><p>This Paperboy instance has no paper <strong>${id}</strong>. It may be new, or outside the categories this instance harvests.</p></div>
<form class="fetch-form" method="post" action="${paperPath(id)}/fetch">
${csrf.field(req, reply)}
<button type="submit">Fetch arXiv:${id} from arXiv</button>
</form>
<p class="small muted">Paperboy looks the id up with arXiv's API (${ctx.config.arxiv.apiUrl.replace(/\/api\/query$/, '')}), stores the paper like any import, and shows its page.
Or read it directly on <a href="${arxivAbsUrl(id)}" rel="noopener">arxiv.org</a>.</p>`;
  // The page carries this browser's CSRF token: no shared cache may keep it.
  return reply
    .code(404)
    .header('cache-control', 'private, no-store')
    .type('text/html; charset=utf-8')
    .send(layout({ title: `arXiv:${id} not found · Paperboy` }, body).value);
}

function malformed(req: FastifyRequest, reply: FastifyReply, raw: string): FastifyReply {
  const shown = raw.length > 80 ? `${raw.slice(0, 80)}…` : raw;
  return sendError(req, reply, 404, `"${shown}" is not an arXiv id: ${ID_EXAMPLES}.`);
}

async function showPaper(ctx: AppContext, csrf: CsrfProtection, req: FastifyRequest, reply: FastifyReply, rawWithSuffix: string): Promise<FastifyReply> {
  const { raw, format, id } = requestedId(rawWithSuffix);
  if (id === null) return malformed(req, reply, raw);
  const suffix = format === 'html' ? '' : `.${format}`;
  // One URL per paper: versions, `arXiv:` prefixes and subject classes redirect.
  if (raw !== id) return reply.redirect(`${paperPath(id)}${suffix}`, 301);

  const entry = await entryByArxivId(ctx.database, id);
  if (entry === undefined) return notFoundPage(ctx, csrf, req, reply, id);
  const { paper, featured } = entry;

  // The HTML page shows the thread, with forms for a signed-in viewer: both are part of its ETag.
  const parts = format === 'html' ? await Promise.all(PAGE_PARTS.map((load) => load(ctx, req, reply, paper))) : [];
  const verifiedAuthors = new Set(parts.flatMap((p) => [...(p.verifiedAuthors?.values() ?? [])]));
  const discussion = format === 'html' ? await loadDiscussion(ctx, { id: paper.id, arxivId: paper.arxivId, titleText: paper.titleText }, verifiedAuthors) : null;
  const modified = lastModified(paper, featured, [discussion?.lastChange, ...parts.map((p) => p.lastChange)]);
  const path = paperPath(id);
  reply
    .header('last-modified', modified.toUTCString())
    .header('etag', pageEtag(paper, featured, format, discussion === null ? [] : [discussion.version, viewerEtagPart(ctx, req, reply), ...parts.map((p) => p.etag)]))
    // Revalidate every time: cheap with a 304, and votes or featuring show at once.
    .header('cache-control', 'no-cache')
    .header('link', `<${path}.md>; rel="alternate"; type="text/markdown"`);
  // A date cannot tell one viewer's copy from another's: signed-in pages revalidate by ETag only.
  if (req.auth === null && notModified(req, modified)) return reply.code(304).send();

  const filename = id.replace(/\//g, '_');
  const digest = await digestOf(ctx, paper);
  const pageUrl = `${ctx.config.baseUrl}${path}`;
  switch (format) {
    case 'md':
      return reply.type(CONTENT_TYPES.md).send(paperMarkdown(paper, digest, pageUrl));
    case 'bib':
      return reply.type(CONTENT_TYPES.bib).header('content-disposition', `inline; filename="${filename}.bib"`).send(toBibtex(paper));
    case 'ris':
      return reply.type(CONTENT_TYPES.ris).header('content-disposition', `inline; filename="${filename}.ris"`).send(toRis(paper));
    case 'html': {
      const markdown: AlternateFeed = { title: 'This paper as Markdown', href: `${path}.md`, type: 'text/markdown' };
      const page = layout(
        {
          title: `${paper.titleText} · Paperboy`,
          description: lead(paper.abstractText, 200),
          canonical: pageUrl,
          alternates: [markdown],
          math: true,
        },
        renderPaper(paper, featured, digest, parts, discussion === null ? undefined : discussionSection(ctx, req, reply, discussion, paper.commentCount)),
      );
      return reply.type('text/html; charset=utf-8').send(page.value);
    }
  }
}

/** POST handler: look the id up on arXiv, store it like an import, redirect to its page. */
async function fetchPaper(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, raw: string): Promise<FastifyReply> {
  const id = parseArxivId(raw)?.id ?? null;
  if (id === null || !isArxivPaperId(id)) return malformed(req, reply, raw);
  const result = await ensurePaper(ctx, id, req.log);
  if (!result.ok) {
    if (result.retryAfter !== undefined) reply.header('retry-after', String(result.retryAfter));
    return sendError(req, reply, result.status, result.message);
  }
  return reply.redirect(paperPath(id), 303);
}

/** GET on a fetch URL: fetching writes to the database, so it is a POST only. */
function fetchNeedsPost(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  reply.header('allow', 'POST');
  return sendError(req, reply, 405, 'Fetching a paper from arXiv is done with the button on the paper\'s "not found" page (a POST request).');
}

/** Registers the paper page routes and the fetch-from-arXiv action. */
export function paperRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    const csrf = csrfProtection(ctx.config);
    app.get<{ Params: { id: string } }>('/papers/:id', (req, reply) => showPaper(ctx, csrf, req, reply, req.params.id));
    app.get<{ Params: { archive: string; num: string } }>('/papers/:archive/:num', (req, reply) =>
      showPaper(ctx, csrf, req, reply, `${req.params.archive}/${req.params.num}`),
    );

    const fetchOptions = { config: rateLimit(ctx.config, 'arxivFetch'), preHandler: csrf.requireCsrf };
    app.post<{ Params: { id: string } }>('/papers/:id/fetch', fetchOptions, (req, reply) => fetchPaper(ctx, req, reply, req.params.id));
    app.post<{ Params: { archive: string; num: string } }>('/papers/:archive/:num/fetch', fetchOptions, (req, reply) =>
      fetchPaper(ctx, req, reply, `${req.params.archive}/${req.params.num}`),
    );
    app.get('/papers/:id/fetch', fetchNeedsPost);
    app.get('/papers/:archive/:num/fetch', fetchNeedsPost);
  };
}
