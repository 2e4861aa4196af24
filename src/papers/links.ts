/**
 * Links mentioned in abstracts and comments ("Code is available at
 * https://github.com/…"), classified so a paper card can show a code button.
 */

export type LinkKind = 'code' | 'project' | 'data' | 'other';

export interface ExtractedLink {
  url: string;
  kind: LinkKind;
}

// Full URLs, bare code-host paths and bare `www.` hosts. TeX braces, quotes,
// angle brackets and backslashes end a URL: they are markup around it, never part of it.
const URL_RE =
  /(?:https?|ftp):\/\/[^\s<>"{}\\^`|]+|(?<![\w@./:-])(?:www\.)?(?:github\.com|gitlab\.com|bitbucket\.org|codeberg\.org|huggingface\.co)\/[^\s<>"{}\\^`|]+|(?<![\w@./:-])www\.[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:\/[^\s<>"{}\\^`|]*)?/gi;
// TeX escapes inside URLs (`\_`, `\%`, `\~{}`) stand for the character itself.
const TEX_ESCAPE_RE = /\\([_%#&~$])(?:\{\})?|\\textasciitilde(?:\{\})?/g;
const TRAILING_PUNCT_RE = /[.,;:!?'*]+$/;
const SCHEME_HOST_RE = /^([a-z]+):\/\/([^/?#]*)(.*)$/i;
const GIT_SUFFIX_RE = /\.git$/i;
const TRAILING_SLASH_RE = /\/+$/;

const CODE_HOSTS: ReadonlySet<string> = new Set([
  'github.com', 'gist.github.com', 'gitlab.com', 'bitbucket.org', 'codeberg.org',
  'sourceforge.net', 'sf.net', 'git.sr.ht', 'sr.ht', 'huggingface.co', 'hf.co',
]);
const DATA_HOSTS: ReadonlySet<string> = new Set([
  'zenodo.org', 'figshare.com', 'datadryad.org', 'dataverse.harvard.edu',
]);
const DROPPED_HOSTS: ReadonlySet<string> = new Set([
  'arxiv.org', 'export.arxiv.org', 'doi.org', 'dx.doi.org',
]);
// Code hosts serve https only; rewriting makes http and https mentions dedupe.
const HTTPS_HOSTS: ReadonlySet<string> = new Set([
  'github.com', 'gist.github.com', 'gitlab.com', 'bitbucket.org', 'codeberg.org', 'huggingface.co',
]);

/** URLs found in the given texts, cleaned, normalised, deduplicated and classified (arXiv and DOI links dropped). */
export function extractLinks(...texts: (string | null | undefined)[]): ExtractedLink[] {
  const out: ExtractedLink[] = [];
  const seen = new Set<string>();
  for (const text of texts) {
    if (typeof text !== 'string' || text.length === 0 || !mayHaveLink(text)) continue;
    const source = text.includes('\\') ? text.replace(TEX_ESCAPE_RE, (_m, c: string | undefined) => c ?? '~') : text;
    for (const m of source.matchAll(URL_RE)) {
      const link = normalise(m[0]);
      if (link === null) continue;
      const key = link.url.toLowerCase();
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(link);
    }
  }
  return out;
}

// Most abstracts hold no link; plain indexOf scans are much cheaper than the URL regex.
const HINTS = ['://', 'www.', 'WWW.', 'ithub.', 'itHub.', 'itlab.', 'itLab.', 'bitbucket.', 'codeberg.', 'uggingface.'];

function mayHaveLink(text: string): boolean {
  for (const hint of HINTS) if (text.includes(hint)) return true;
  return false;
}

/** Strips trailing punctuation, closing brackets the URL did not open. */
function trimUrl(raw: string): string {
  let url = raw;
  for (;;) {
    const before = url;
    url = url.replace(TRAILING_PUNCT_RE, '');
    const last = url[url.length - 1];
    if (last === ')' || last === ']') {
      const open = last === ')' ? '(' : '[';
      if (count(url, open) < count(url, last)) url = url.slice(0, -1);
    }
    if (url === before) return url;
  }
}

function count(s: string, ch: string): number {
  let n = 0;
  for (let i = s.indexOf(ch); i !== -1; i = s.indexOf(ch, i + 1)) n++;
  return n;
}

function normalise(raw: string): ExtractedLink | null {
  let url = trimUrl(raw);
  // A bare `www.` host gives no scheme; code hosts are upgraded to https below.
  if (!url.includes('://')) url = `http://${url}`;
  const m = SCHEME_HOST_RE.exec(url);
  if (!m) return null;
  const scheme = (m[1] ?? '').toLowerCase();
  let host = (m[2] ?? '').toLowerCase();
  let rest = m[3] ?? '';
  if (host.length === 0 || !host.includes('.')) return null;
  if (host.startsWith('www.') && CODE_HOSTS.has(host.slice(4))) host = host.slice(4);
  const bareHost = host.startsWith('www.') ? host.slice(4) : host;
  if (DROPPED_HOSTS.has(bareHost) || bareHost.endsWith('.arxiv.org')) return null;
  let finalScheme = scheme;
  if (HTTPS_HOSTS.has(host)) {
    finalScheme = 'https';
    // `github.com/o/r/` and `github.com/o/r.git` are the same repository as `github.com/o/r`.
    while (rest.length > 0 && (rest.endsWith('/') || TRAILING_PUNCT_RE.test(rest))) {
      rest = rest.replace(TRAILING_SLASH_RE, '').replace(TRAILING_PUNCT_RE, '');
    }
    if (host === 'github.com' && rest.split('/').length === 3) rest = rest.replace(GIT_SUFFIX_RE, '');
  }
  return { url: `${finalScheme}://${host}${rest}`, kind: classify(scheme, bareHost, rest) };
}

function classify(scheme: string, host: string, path: string): LinkKind {
  if (scheme !== 'http' && scheme !== 'https') return 'other';
  const lowerPath = path.toLowerCase();
  if (host === 'huggingface.co' || host === 'hf.co') {
    if (lowerPath.startsWith('/datasets/')) return 'data';
    // Hugging Face paper pages describe the paper, they hold no code.
    return lowerPath.startsWith('/papers/') ? 'project' : 'code';
  }
  if (host === 'kaggle.com' || host === 'www.kaggle.com') {
    return lowerPath.startsWith('/datasets/') ? 'data' : 'project';
  }
  if (CODE_HOSTS.has(host) || host.endsWith('.sourceforge.net') || host.endsWith('.sourceforge.io')) return 'code';
  if (DATA_HOSTS.has(host) || host.endsWith('.figshare.com') || host.endsWith('.zenodo.org')) return 'data';
  return 'project';
}
