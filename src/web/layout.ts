import { html, type SafeHtml } from './html.js';

const STYLE = `
:root { color-scheme: light dark; --fg: #1a1a1a; --bg: #fff; --muted: #555; --accent: #0b57d0; }
@media (prefers-color-scheme: dark) { :root { --fg: #e8e8e8; --bg: #121212; --muted: #aaa; --accent: #8ab4f8; } }
body { font: 16px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 0; }
header, main, footer { max-width: 52rem; margin: 0 auto; padding: 0.75rem 1rem; }
header { display: flex; gap: 1rem; align-items: baseline; border-bottom: 1px solid #8884; }
header a.brand { font-weight: 700; font-size: 1.25rem; text-decoration: none; color: var(--fg); }
a { color: var(--accent); }
.muted { color: var(--muted); font-size: 0.9rem; }
code, pre { font-family: ui-monospace, monospace; background: #8882; padding: 0 0.25rem; border-radius: 3px; }
pre { padding: 0.75rem; overflow-x: auto; }
ol.papers { padding-left: 1.25rem; }
ol.papers li { margin-bottom: 0.75rem; }
`;

/** The page shell shared by every HTML page. */
export function layout(title: string, body: SafeHtml): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${STYLE}</style>
</head>
<body>
<header><a class="brand" href="/">Paperboy</a><span class="muted">research papers, daily</span></header>
<main>${body}</main>
<footer class="muted">Paperboy. Paper metadata from arXiv.</footer>
</body>
</html>`;
}
