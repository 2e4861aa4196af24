/**
 * Citation export: BibTeX in the shape arXiv itself exports (`@misc` with
 * eprint, archivePrefix and primaryClass, which biblatex and natbib styles
 * understand) and RIS for reference managers (Zotero, Mendeley, EndNote).
 */
import type { ParsedAuthor } from './authors.js';
import type { Paper } from './repository.js';
import { isStopWord } from './summary.js';
import { texToPlain } from './tex.js';

/** The fields a citation needs; a `Paper` has them all. */
export type CitablePaper = Pick<
  Paper,
  'arxivId' | 'title' | 'titleText' | 'abstractText' | 'authors' | 'primaryCategory' | 'categories' | 'doi' | 'journalRef' | 'comments' | 'publishedAt'
>;

/** True for ids of arXiv papers (not `beir:…` or other imported namespaces). */
export function isArxivPaperId(id: string): boolean {
  return !id.includes(':');
}

/** The arXiv abstract page of an id. */
export function arxivAbsUrl(id: string): string {
  return `https://arxiv.org/abs/${id}`;
}

/** Lower-case ASCII letters only: "Müller" -> "muller", for citation keys. */
function keyPart(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z]/g, '');
}

/** A key in arXiv's style: first author's surname, year, first content word of the title (`streinu2007sparsity`). */
export function bibtexKey(paper: CitablePaper): string {
  const surname = keyPart(paper.authors[0]?.keyname ?? '') || 'anon';
  const year = paper.publishedAt?.slice(0, 4) ?? '';
  const words = texToPlain(paper.titleText || paper.title).split(/[^\p{L}\p{N}]+/u);
  const word = words.map(keyPart).find((w, i) => w.length > 2 && !isStopWord(words[i] ?? '')) ?? '';
  return `${surname}${year}${word}`;
}

/**
 * Drops braces that have no partner. BibTeX counts every brace, escaped or
 * not, so one stray `}` in a title would end the field early and corrupt
 * every entry after it.
 */
function balanceBraces(text: string): string {
  const drop = new Set<number>();
  const open: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '{') open.push(i);
    else if (text[i] === '}') {
      if (open.length > 0) open.pop();
      else drop.add(i);
    }
  }
  for (const i of open) drop.add(i);
  if (drop.size === 0) return text;
  return [...text].filter((_, i) => !drop.has(i)).join('');
}

const MATH_SPLIT_RE = /(\$\$[\s\S]*?\$\$|\$(?:\\.|[^$\\])+\$)/;

/**
 * TeX source made safe for a BibTeX field: math (`$…$`) and commands such as
 * `\emph{x}` are kept, so the title prints as the authors wrote it; characters
 * special to TeX outside math (`& % # _ ^`) are escaped unless already.
 */
export function bibtexText(tex: string): string {
  const escaped = tex
    .split(MATH_SPLIT_RE)
    .map((part, i) =>
      i % 2 === 1
        ? part
        : part
            .replace(/(?<!\\)[&%#_]/g, '\\$&')
            .replace(/(?<!\\)\^/g, '\\^{}')
            .replace(/(?<!\\)\$/g, '\\$$'),
    )
    .join('');
  return balanceBraces(escaped).replace(/\s+/g, ' ').trim();
}

/** Plain text (author names, journal references) made safe for a BibTeX field. */
function bibtexPlain(text: string): string {
  return balanceBraces(text.replace(/[\\]/g, '').replace(/([&%#_$])/g, '\\$1').replace(/\^/g, '\\^{}').replace(/~/g, '\\~{}'))
    .replace(/\s+/g, ' ')
    .trim();
}

/** "Surname, Forenames" (with ", Jr." between), or a braced collaboration name that BibTeX must not split. */
function bibtexAuthor(a: ParsedAuthor): string {
  if (a.forenames === null || a.forenames === '') return `{${bibtexPlain(a.keyname || a.name)}}`;
  const parts = [a.keyname, a.suffix, a.forenames].filter((p): p is string => p !== null && p !== '');
  // An "and" inside a name would be read as the separator between two authors.
  return parts.map((p) => (/\band\b/i.test(p) ? `{${bibtexPlain(p)}}` : bibtexPlain(p))).join(', ');
}

/** One `@misc` BibTeX entry for the paper. */
export function toBibtex(paper: CitablePaper): string {
  const arxiv = isArxivPaperId(paper.arxivId);
  const fields: [string, string | null][] = [
    // Double braces keep the title's capitalisation ("LoRA", "BERT") in every style.
    ['title', `{${bibtexText(paper.title)}}`],
    ['author', paper.authors.length > 0 ? paper.authors.map(bibtexAuthor).join(' and ') : null],
    ['year', paper.publishedAt?.slice(0, 4) ?? null],
    ['eprint', arxiv ? paper.arxivId : null],
    ['archivePrefix', arxiv ? 'arXiv' : null],
    ['primaryClass', arxiv ? paper.primaryCategory : null],
    // biblatex reads doi verbatim: escaping `_` would print the backslash.
    ['doi', paper.doi === null ? null : balanceBraces(paper.doi.trim())],
    ['note', paper.journalRef === null ? null : bibtexPlain(paper.journalRef)],
    ['url', arxiv ? arxivAbsUrl(paper.arxivId) : null],
  ];
  const body = fields
    .filter((f): f is [string, string] => f[1] !== null && f[1] !== '')
    .map(([k, v]) => `  ${k} = {${v}},`)
    .join('\n');
  return `@misc{${bibtexKey(paper)},\n${body}\n}\n`;
}

const RIS_EOL = '\r\n';

/** One RIS line; RIS values are single lines, so whitespace runs (newlines too) become one space. */
function risLine(tag: string, value: string): string {
  return `${tag}  - ${value.replace(/\s+/g, ' ').trim()}${RIS_EOL}`;
}

/** "YYYY/MM/DD" from an ISO date. */
function risDate(iso: string): string {
  return iso.slice(0, 10).replace(/-/g, '/');
}

/** The paper as one RIS record (type PREP, preprint), lines ending in CRLF as the format asks. */
export function toRis(paper: CitablePaper): string {
  const arxiv = isArxivPaperId(paper.arxivId);
  const lines = [risLine('TY', 'PREP'), risLine('T1', paper.titleText || texToPlain(paper.title))];
  for (const a of paper.authors) {
    const name =
      a.forenames === null || a.forenames === ''
        ? a.keyname || a.name
        : [a.keyname, a.forenames, a.suffix].filter((p) => p !== null && p !== '').join(', ');
    lines.push(risLine('AU', name));
  }
  if (paper.publishedAt !== null) {
    lines.push(risLine('PY', paper.publishedAt.slice(0, 4)));
    lines.push(risLine('DA', risDate(paper.publishedAt)));
  }
  if (paper.abstractText !== '') lines.push(risLine('AB', paper.abstractText));
  for (const c of paper.categories) lines.push(risLine('KW', c));
  if (arxiv) {
    lines.push(risLine('UR', arxivAbsUrl(paper.arxivId)));
    lines.push(risLine('PB', 'arXiv'));
    lines.push(risLine('AN', `arXiv:${paper.arxivId}`));
  }
  if (paper.doi !== null) lines.push(risLine('DO', paper.doi));
  const notes = [
    arxiv ? `arXiv:${paper.arxivId}${paper.primaryCategory ? ` [${paper.primaryCategory}]` : ''}` : paper.arxivId,
    paper.journalRef,
    paper.comments,
  ].filter((n): n is string => n !== null && n !== '');
  lines.push(risLine('N1', notes.join('; ')));
  lines.push(`ER  - ${RIS_EOL}`);
  return lines.join('');
}
