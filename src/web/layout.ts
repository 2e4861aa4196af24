import { assetUrl } from './assets.js';
import type { HeaderAccount } from './auth.js';
import { html, raw, type SafeHtml } from './html.js';

/** Another form of the page's content (a feed, Markdown), announced with `<link rel="alternate">`. */
export interface AlternateFeed {
  title: string;
  href: string;
  type: 'application/rss+xml' | 'application/atom+xml' | 'text/markdown';
}

export type NavSection = 'daily' | 'trending' | 'for-you' | 'search' | 'submit' | 'api' | null;

export interface PageOptions {
  title: string;
  description?: string;
  /** Marks the current section in the header navigation. */
  section?: NavSection;
  /** Pre-fills the header search box. */
  query?: string;
  alternates?: readonly AlternateFeed[];
  /** Absolute or root-relative canonical URL. */
  canonical?: string;
  /** Pages that show TeX load the bundled KaTeX. */
  math?: boolean;
}

/**
 * The header's account links of an anonymous page. Pages are rendered (and
 * cached) anonymous; for a signed-in request auth.ts swaps this exact markup
 * for the person's links as the response is sent, so no page has to thread
 * the viewer through to the layout and no cached page ever holds a name.
 */
export const ANONYMOUS_ACCOUNT_NAV =
  '<nav class="account-nav" aria-label="Account"><a href="/login">Log in</a> <a href="/signup">Sign up</a></nav>';

/** The header's account links of a signed-in person. */
export function accountNav(account: HeaderAccount): SafeHtml {
  const unread = account.unread > 0 ? html` <span class="badge" aria-label="${account.unread} unread">${account.unread}</span>` : '';
  return html`<nav class="account-nav" aria-label="Account">
<a href="/u/${account.username}">${account.username}</a>
<a href="/following">Following</a>
<a href="/collections/mine">Collections</a>
<a href="/saved">Saved searches</a>
${account.role === 'user' ? '' : html`<a href="/admin">Admin</a>`}
<a href="/notifications">Notifications${unread}</a>
<a href="/settings">Settings</a>
<form method="post" action="/logout" class="inline-form">${account.csrfField}<button type="submit" class="link-button">Log out</button></form>
</nav>`;
}

function navLink(href: string, label: string, current: boolean): SafeHtml {
  return current ? html`<a href="${href}" aria-current="page">${label}</a>` : html`<a href="${href}">${label}</a>`;
}

/**
 * The page shell shared by every HTML page: landmarks, header with search and
 * the subscribe box, footer. The subscribe box is a GET form to /subscribe:
 * these pages are cached for everyone, so they cannot carry a browser's CSRF
 * token; the form that has one is the next page, prefilled.
 */
export function layout(options: PageOptions, body: SafeHtml): SafeHtml {
  const { section = null } = options;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title}</title>
${options.description ? html`<meta name="description" content="${options.description}">` : ''}
<meta name="color-scheme" content="light dark">
<link rel="icon" href="${assetUrl('favicon.svg')}" type="image/svg+xml">
<link rel="stylesheet" href="${assetUrl('app.css')}">
${options.canonical ? html`<link rel="canonical" href="${options.canonical}">` : ''}
${(options.alternates ?? []).map((a) => html`<link rel="alternate" type="${a.type}" title="${a.title}" href="${a.href}">\n`)}
${
  options.math
    ? html`<link rel="stylesheet" href="${assetUrl('katex/katex.min.css')}">
<script defer src="${assetUrl('katex/katex.min.js')}"></script>
<script defer src="${assetUrl('katex/auto-render.min.js')}"></script>
<script defer src="${assetUrl('app.js')}"></script>`
    : ''
}
</head>
<body>
<a class="skip" href="#content">Skip to content</a>
<header class="site-header">
<div class="wrap">
<a class="brand" href="/">Paperboy</a>
<nav class="site-nav" aria-label="Main">
${navLink('/papers', 'Daily', section === 'daily')}
${navLink('/papers/trending', 'Trending', section === 'trending')}
${navLink('/for-you', 'For you', section === 'for-you')}
${navLink('/search', 'Search', section === 'search')}
${navLink('/papers/submit', 'Submit', section === 'submit')}
${navLink('/api/docs', 'API', section === 'api')}
</nav>
<form class="site-search" role="search" method="get" action="/search">
<label class="skip" for="site-q">Search papers</label>
<input id="site-q" type="search" name="q" value="${options.query ?? ''}" placeholder="Search papers" autocomplete="off">
<button type="submit">Search</button>
</form>
${raw(ANONYMOUS_ACCOUNT_NAV)}
<div class="subscribe-slot" id="subscribe">
<form class="subscribe-box" method="get" action="/subscribe">
<label for="subscribe-email">Get trending papers in your email inbox!</label>
<span class="subscribe-fields"><input id="subscribe-email" type="email" name="email" placeholder="you@example.org" autocomplete="email" required><button type="submit">Subscribe</button></span>
</form>
</div>
</div>
</header>
<main id="content" class="wrap">
${body}
</main>
<footer class="site-footer">
<div class="wrap">
<span>Paperboy: research papers, daily.</span>
<span>Paper metadata from <a href="https://arxiv.org">arXiv</a>.</span>
<a href="/api/docs">API</a>
<a href="/feeds">Feeds</a>
</div>
</footer>
</body>
</html>`;
}
