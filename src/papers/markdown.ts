/**
 * A paper as Markdown (`/papers/:id.md`): for people and tools that read text,
 * such as note-taking apps and LLM agents. TeX math stays as `$…$`, which
 * GitHub, Obsidian and most Markdown renderers display as math.
 */
import type { ParsedAuthor } from './authors.js';
import { arxivAbsUrl, isArxivPaperId, toBibtex } from './citation.js';
import type { Paper } from './repository.js';

/** The summary and keyphrases shown with a paper, and who or what made them. */
export interface PaperDigest {
  sentences: string[];
  keyphrases: string[];
  /** Human-readable statement of the method, e.g. "Computed locally by …". */
  label: string;
}

const MATH_SPLIT_RE = /(\$\$[\s\S]*?\$\$|\$(?:\\.|[^$\\])+\$)/;
// CommonMark lets a backslash escape any ASCII punctuation; these are the ones
// that start emphasis, links, code, HTML, tables or strikethrough mid-line.
const INLINE_SPECIALS_RE = /[\\`*_[\]<>|~&]/g;
// At the start of a line these make headings, quotes, lists or rules.
const LINE_START_RE = /^(\s*)([#>+=-]|\d+[.)])/gm;

/**
 * Text with Markdown's inline specials escaped, so a title like "*Not* a
 * [link]" shows as written; TeX math (`$…$`) is left untouched so it still
 * renders.
 */
export function escapeMarkdown(text: string): string {
  return text
    .split(MATH_SPLIT_RE)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(INLINE_SPECIALS_RE, '\\$&')))
    .join('');
}

/** Like `escapeMarkdown`, for text that starts a line: "1. " or "# " there would begin a list or heading. */
export function escapeMarkdownBlock(text: string): string {
  return escapeMarkdown(text).replace(LINE_START_RE, (_m, space: string, mark: string) =>
    /^\d/.test(mark) ? `${space}${mark.slice(0, -1)}\\${mark.slice(-1)}` : `${space}\\${mark}`,
  );
}

/** A URL safe inside `(…)` of a Markdown link: spaces, parentheses and angle brackets percent-encoded. */
export function markdownUrl(url: string): string {
  return url.replace(/[\s()<>]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

function link(text: string, url: string): string {
  return `[${escapeMarkdown(text)}](${markdownUrl(url)})`;
}

function authorLine(a: ParsedAuthor): string {
  const name = escapeMarkdown(a.name);
  return a.affiliations.length > 0 ? `${name} (${escapeMarkdown(a.affiliations.join('; '))})` : name;
}

const day = (iso: string | null): string | null => (iso === null ? null : iso.slice(0, 10));

const LINK_NAMES: Record<string, string> = { code: 'Code', project: 'Project page', data: 'Data', other: 'Link' };

/** The whole paper page as a Markdown document. */
export function paperMarkdown(paper: Paper, digest: PaperDigest, pageUrl: string): string {
  const out: string[] = [`# ${escapeMarkdown(paper.title.replace(/\s+/g, ' ').trim())}`, ''];
  if (paper.withdrawn) out.push('> **This paper has been withdrawn by its authors.**', '');
  if (paper.authors.length > 0) out.push(`**Authors:** ${paper.authors.map(authorLine).join(', ')}`, '');

  const facts: string[] = [];
  const arxiv = isArxivPaperId(paper.arxivId);
  facts.push(`- **Paper:** ${link(arxiv ? `arXiv:${paper.arxivId}` : paper.arxivId, pageUrl)}`);
  if (arxiv) {
    facts.push(`- **arXiv:** ${link('abstract', arxivAbsUrl(paper.arxivId))} · ${link('PDF', `https://arxiv.org/pdf/${paper.arxivId}`)}`);
  }
  for (const l of paper.links) facts.push(`- **${LINK_NAMES[l.kind] ?? 'Link'}:** <${markdownUrl(l.url)}>`);
  const first = day(paper.publishedAt);
  const latest = day(paper.updatedAt);
  if (first) facts.push(`- **First version:** ${first}`);
  if (latest && latest !== first) facts.push(`- **Latest version:** v${paper.version}, ${latest}`);
  if (paper.announcedOn) facts.push(`- **Announced:** ${paper.announcedOn}${paper.announcedEstimated ? ' (estimated)' : ''}`);
  if (paper.categories.length > 0) {
    facts.push(`- **Categories:** ${paper.categories.map((c) => (c === paper.primaryCategory ? `**${c}**` : c)).join(', ')}`);
  }
  if (paper.doi) facts.push(`- **DOI:** ${link(paper.doi, `https://doi.org/${paper.doi}`)}`);
  if (paper.journalRef) facts.push(`- **Journal reference:** ${escapeMarkdown(paper.journalRef)}`);
  if (paper.comments) facts.push(`- **Comments:** ${escapeMarkdown(paper.comments.replace(/\s+/g, ' '))}`);
  if (paper.license) facts.push(`- **Licence:** <${markdownUrl(paper.license)}>`);
  facts.push(`- **Upvotes:** ${paper.upvotes} · **Comments:** ${paper.commentCount}`);
  out.push(...facts, '');

  out.push('## Abstract', '');
  for (const para of paper.abstract.split(/\n\s*\n/)) {
    const text = para.replace(/\s+/g, ' ').trim();
    if (text !== '') out.push(escapeMarkdownBlock(text), '');
  }

  if (digest.sentences.length > 0 || digest.keyphrases.length > 0) {
    out.push('## Summary', '', `_${escapeMarkdown(digest.label)}_`, '');
    for (const s of digest.sentences) out.push(`- ${escapeMarkdownBlock(s)}`);
    if (digest.sentences.length > 0) out.push('');
    if (digest.keyphrases.length > 0) out.push(`**Keyphrases:** ${digest.keyphrases.map(escapeMarkdown).join(', ')}`, '');
  }

  // A fence longer than any backtick run inside can never be closed early.
  const bibtex = toBibtex(paper);
  const fence = '`'.repeat(Math.max(3, ...[...bibtex.matchAll(/`+/g)].map((m) => m[0].length + 1)));
  out.push('## Cite', '', `${fence}bibtex`, bibtex.trimEnd(), fence, '');
  return out.join('\n');
}
