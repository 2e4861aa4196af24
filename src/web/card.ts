import type { FeaturedInfo, FeedEntry } from '../feeds/feed.js';
import type { Paper } from '../papers/repository.js';
import { html, type SafeHtml } from './html.js';
import { upvoteBox } from './upvote-routes.js';

const LEAD_CHARS = 240;
const AUTHORS_SHOWN = 6;

/** Root-relative URL of a paper's page. */
export function paperPath(arxivId: string): string {
  return `/papers/${arxivId}`;
}

/** "Submitted by ada", "Featured by curator bob" or "Featured: new in cs.LG". */
export function featuredLabel(featured: FeaturedInfo): string {
  if (featured.source === 'submission') return `Submitted by ${featured.by ?? 'a user'}`;
  if (featured.source === 'curator') return `Featured by ${featured.by ?? 'a curator'}`;
  return 'Featured: new announcement';
}

/** The opening of a text, cut at a word boundary. */
export function lead(text: string, max = LEAD_CHARS): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).replace(/[\s,;:.]+$/, '')}…`;
}

export function authorList(paper: Paper, shown = AUTHORS_SHOWN): string {
  const names = paper.authors.map((a) => a.name);
  if (names.length <= shown) return names.join(', ');
  return `${names.slice(0, shown).join(', ')} and ${names.length - shown} more`;
}

export function categoryChips(paper: Paper): SafeHtml {
  return html`${paper.categories.map(
    (c) => html`<a class="chip${c === paper.primaryCategory ? ' primary' : ''}" href="/c/${c}">${c}</a> `,
  )}`;
}

export interface CardOptions {
  /** Heading level inside the list: 2 on feed pages, 3 under a section heading. */
  heading?: 2 | 3;
  /** Highlighted search snippet (already escaped) shown instead of the abstract's opening. */
  snippet?: SafeHtml;
}

/**
 * One paper in a list: upvote box, title, authors, who featured it, categories,
 * code link, and the abstract's opening that expands to the whole abstract
 * (a `<details>` element, so it works without JavaScript).
 */
export function paperCard(entry: FeedEntry, options: CardOptions = {}): SafeHtml {
  const { paper, featured } = entry;
  const href = paperPath(paper.arxivId);
  const titleId = `t-${paper.arxivId.replace(/[^\w-]/g, '-')}`;
  const code = paper.links.find((l) => l.kind === 'code');
  const heading =
    options.heading === 3
      ? html`<h3 id="${titleId}" class="tex"><a href="${href}">${paper.title}</a></h3>`
      : html`<h2 id="${titleId}" class="tex"><a href="${href}">${paper.title}</a></h2>`;
  return html`<li><article class="card" aria-labelledby="${titleId}">
${upvoteBox(paper, 'card')}
<div>
${heading}
<p class="authors">${authorList(paper)}</p>
<p class="meta">
${featured ? html`<span>${featuredLabel(featured)}</span>` : ''}
<span>${paper.publishedAt ? html`<time datetime="${paper.publishedAt}">${paper.publishedAt.slice(0, 10)}</time>` : ''}</span>
<span><a href="${href}#discussion">${paper.commentCount} ${paper.commentCount === 1 ? 'comment' : 'comments'}</a></span>
${code ? html`<span><a href="${code.url}" rel="nofollow noopener">Code</a></span>` : ''}
<span><a href="https://arxiv.org/abs/${paper.arxivId}" rel="noopener">arXiv</a></span>
<span><a class="save-link" href="${href}/save">Save<span class="visually-hidden"> to a collection</span></a></span>
${paper.withdrawn ? html`<span class="withdrawn">Withdrawn</span>` : ''}
</p>
<p class="meta">${categoryChips(paper)}</p>
${
  // A paper whose abstract is missing (some listings carry none) has an empty snippet.
  options.snippet && options.snippet.value !== ''
    ? html`<p class="snippet small">${options.snippet}</p>`
    : html`<details class="abstract"><summary><span class="lead">${lead(paper.abstractText)}</span> <span class="muted small">Abstract</span></summary>
<p class="tex">${paper.abstract}</p></details>`
}
</div>
</article></li>`;
}
