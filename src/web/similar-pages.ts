/**
 * Similar papers: a side panel on every paper page (the five closest) and a
 * page per paper, `/papers/:id/similar`, sortable by similarity, recency or
 * popularity. Both read src/semantic/similar.ts, as the API does.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { entriesByIds } from '../feeds/feed.js';
import { SIMILAR_SORTS, similarPapers, type SimilarSort } from '../semantic/similar.js';
import { paperCard, paperPath } from './card.js';
import { paperFromUrl } from './claim-pages.js';
import { sendError } from './errors.js';
import { html } from './html.js';
import { layout } from './layout.js';
import type { PaperPagePart, PaperPagePartLoader } from './paper-page.js';

const PANEL_SIZE = 5;
const PAGE_SIZE = 20;

const SORT_LABELS: Readonly<Record<SimilarSort, string>> = {
  similarity: 'Most similar',
  recency: 'Newest',
  popularity: 'Most upvoted',
};

export function similarPath(arxivId: string, sort: SimilarSort = 'similarity'): string {
  return `${paperPath(arxivId)}/similar${sort === 'similarity' ? '' : `?sort=${sort}`}`;
}

/** The paper page's "Similar papers" panel. */
export const similarPart: PaperPagePartLoader = async (ctx, _req, _reply, paper): Promise<PaperPagePart> => {
  const heading = html`<h2 id="similar-h">Similar papers</h2>`;
  const similar = await similarPapers(ctx, paper.id, PANEL_SIZE);
  if (!similar.available || similar.papers.length === 0) {
    return {
      etag: 'similar:none',
      side: html`<section class="panel" aria-labelledby="similar-h">${heading}<p class="small muted">${
        similar.available ? 'No similar papers in this instance.' : `Not yet: ${similar.reason}.`
      }</p></section>`,
    };
  }
  const rows = await ctx.database.db
    .selectFrom('papers')
    .select(['id', 'arxiv_id', 'title'])
    .where('id', 'in', similar.papers.map((p) => p.paperId))
    .execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  const items = similar.papers.flatMap((p) => {
    const row = byId.get(p.paperId);
    return row === undefined ? [] : [html`<li><a class="tex" href="${paperPath(row.arxiv_id)}">${row.title}</a></li>`];
  });
  return {
    etag: `similar:${similar.modelId}:${similar.papers.map((p) => p.paperId).join('.')}`,
    side: html`<section class="panel similar" aria-labelledby="similar-h">${heading}
<ol class="similar-list small">${items}</ol>
<p class="small"><a href="${similarPath(paper.arxivId)}">More similar papers</a></p></section>`,
  };
};

const SimilarPageQuery = z.strictObject({
  sort: z.enum(SIMILAR_SORTS, { error: 'sort must be similarity, recency or popularity' }).default('similarity'),
});

async function showSimilar(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, raw: string): Promise<FastifyReply> {
  const query = SimilarPageQuery.safeParse(req.query ?? {});
  if (!query.success) return sendError(req, reply, 400, query.error.issues.map((i) => i.message).join(' '));
  const paper = await paperFromUrl(ctx, req, reply, raw);
  if (paper === undefined) return reply;
  const sort = query.data.sort;
  const similar = await similarPapers(ctx, paper.id, PAGE_SIZE, sort);
  const sorts = html`<nav class="tabs" aria-label="Order">${SIMILAR_SORTS.map((s) =>
    s === sort ? html`<strong aria-current="page">${SORT_LABELS[s]}</strong> ` : html`<a href="${similarPath(paper.arxivId, s)}">${SORT_LABELS[s]}</a> `,
  )}</nav>`;
  let content;
  if (!similar.available) content = html`<div class="empty" role="status"><p>No similar papers yet: ${similar.reason}. Papers are embedded within minutes of arriving.</p></div>`;
  else if (similar.papers.length === 0) content = html`<div class="empty" role="status"><p>No similar papers in this instance.</p></div>`;
  else {
    const entries = new Map((await entriesByIds(ctx.database, similar.papers.map((p) => p.paperId))).map((e) => [e.paper.id, e]));
    content = html`<ol class="cards" aria-label="Similar papers">${similar.papers.flatMap((p) => {
      const entry = entries.get(p.paperId);
      return entry === undefined ? [] : [paperCard(entry)];
    })}</ol>`;
  }
  const body = html`<h1>Papers similar to <a class="tex" href="${paperPath(paper.arxivId)}">${paper.titleText}</a></h1>
<p class="muted small">By meaning: the closest papers by their title and abstract${sort === 'similarity' ? '' : `, the closest re-sorted by ${sort === 'recency' ? 'date' : 'upvotes'}`}.</p>
${sorts}${content}`;
  return reply
    .header('cache-control', 'public, max-age=60')
    .type('text/html; charset=utf-8')
    .send(layout({ title: `Similar to ${paper.titleText} · Paperboy`, math: true, canonical: similarPath(paper.arxivId, sort) }, body).value);
}

export function similarRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Params: { id: string } }>('/papers/:id/similar', (req, reply) => showSimilar(ctx, req, reply, req.params.id));
    app.get<{ Params: { archive: string; num: string } }>('/papers/:archive/:num/similar', (req, reply) =>
      showSimilar(ctx, req, reply, `${req.params.archive}/${req.params.num}`),
    );
  };
}
