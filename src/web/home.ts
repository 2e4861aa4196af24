import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../context.js';
import { html } from './html.js';
import { layout } from './layout.js';

const LATEST_LIMIT = 30;

/** The front page: the newest papers, or how to get some into an empty instance. */
export function homeRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    app.get('/', async (_req, reply) => {
      const { db } = ctx.database;
      const count = await db
        .selectFrom('papers')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      const papers = await db
        .selectFrom('papers')
        .select(['arxiv_id', 'title_text', 'authors_text', 'announced_on', 'primary_category'])
        .orderBy('announced_on', 'desc')
        .orderBy('arxiv_id', 'desc')
        .limit(LATEST_LIMIT)
        .execute();
      const body =
        papers.length === 0
          ? html`<h1>Welcome to Paperboy</h1>
<p>This instance has no papers yet. Get some in one of two ways:</p>
<ul>
<li>Import files you have (arXiv API Atom, OAI-PMH XML, <code>.abs</code> files, daily listings,
the Kaggle <code>arxiv-metadata-oai-snapshot.json</code>, BEIR <code>corpus.jsonl.gz</code>):
<pre>npx paperboy import path/to/files</pre></li>
<li>Harvest the newest papers of your categories from arXiv (needs internet access):
<pre>npx paperboy harvest --from 2026-11-01</pre>
The scheduler also harvests every day while <code>npm start</code> runs.</li>
</ul>`
          : html`<h1>Latest papers</h1>
<p class="muted">${count.n} papers in this instance.</p>
<ol class="papers">${papers.map(
              (p) => html`<li><strong>${p.title_text}</strong><br>
<span class="muted">${p.authors_text} · ${p.arxiv_id}${p.primary_category ? ` · ${p.primary_category}` : ''}${
                p.announced_on ? ` · ${p.announced_on}` : ''
              }</span></li>`,
            )}</ol>`;
      return reply.type('text/html; charset=utf-8').send(layout('Paperboy', body).value);
    });
  };
}
