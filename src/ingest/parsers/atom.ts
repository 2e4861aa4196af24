/**
 * arXiv API Atom responses (`/api/query`), in both the 2016 layout (namespace
 * declared on every extension element) and the current one (declared once on
 * `<feed>`, element order shuffled). Only the namespaces matter, so one
 * mapping serves both.
 */
import type { ParseItem, Parser, RawAuthors, RawPaper, RawVersion } from '../record.js';
import {
  child,
  childText,
  children,
  idVersion,
  intOrNull,
  isName,
  isoDateTime,
  looksLikeArxivId,
  nonBlank,
  readWhole,
  streamXml,
} from './xml.js';
import type { XmlElement, XmlName } from './xml.js';

const ATOM = 'http://www.w3.org/2005/Atom';
const ARXIV = 'http://arxiv.org/schemas/atom';
// arXiv serves OpenSearch 1.1; the RSS-era 1.0 namespace is accepted so an
// older cached response still reports its totals.
const OPENSEARCH = ['http://a9.com/-/spec/opensearch/1.1/', 'http://a9.com/-/spec/opensearchrss/1.0/'];
// Hand-written feeds sometimes omit the Atom namespace; accept them too.
const ATOM_NS = [ATOM, ''];
const PAGE_FIELDS = ['totalResults', 'startIndex', 'itemsPerPage'] as const;

/** Paging information an API client needs from one response. */
export interface AtomPage {
  items: ParseItem[];
  totalResults: number | null;
  startIndex: number | null;
  itemsPerPage: number | null;
}

type PageMeta = Omit<AtomPage, 'items'>;

const selectAtom = (ancestors: readonly XmlName[], el: XmlName): boolean => {
  if (ancestors.length !== 1) return false;
  if (isName(el, 'entry', ...ATOM_NS)) return true;
  return PAGE_FIELDS.some((f) => isName(el, f, ...OPENSEARCH));
};

/** Items of the feed in order; returns the page fields once the feed has ended. */
async function* readFeed(input: AsyncIterable<string>): AsyncGenerator<ParseItem, PageMeta> {
  const meta: PageMeta = { totalResults: null, startIndex: null, itemsPerPage: null };
  let entries = 0;
  for await (const ev of streamXml(input, selectAtom)) {
    switch (ev.type) {
      case 'root':
        if (!isName(ev.name, 'feed', ...ATOM_NS)) {
          yield { kind: 'error', reason: `not an Atom feed: root element is <${ev.name.name}>`, at: { line: ev.line } };
          return meta;
        }
        break;
      case 'element':
        if (isName(ev.el, 'entry', ...ATOM_NS)) {
          entries += 1;
          yield mapEntry(ev.el, entries);
        } else {
          const field = PAGE_FIELDS.find((f) => f === ev.el.local);
          if (field !== undefined) meta[field] = intOrNull(ev.el.text);
        }
        break;
      case 'end':
        // Without an item the import summary would not mention the file at all.
        if (entries === 0) yield { kind: 'skip', reason: 'feed has no entries', at: { line: ev.line } };
        break;
      case 'error':
        yield { kind: 'error', reason: ev.reason, at: { line: ev.line } };
        return meta;
    }
  }
  return meta;
}

/** Parses an arXiv API Atom response into one item per `<entry>`. */
export const parseAtom: Parser = async function* parseAtom(input) {
  yield* readFeed(input);
};

/** Parses one whole API response page, with its OpenSearch paging fields. */
export function readAtomPage(xml: string): Promise<AtomPage> {
  return readWhole(readFeed, xml);
}

function mapEntry(el: XmlElement, index: number): ParseItem {
  const at = { record: index, line: el.line };
  const id = childText(el, 'id', ...ATOM_NS);
  if (id === null) return { kind: 'error', reason: 'entry has no <id>', at };
  // The API reports a bad query as a feed with a single pseudo-entry.
  if (/arxiv\.org\/api\/errors/i.test(id)) {
    const message = childText(el, 'summary', ...ATOM_NS) ?? childText(el, 'title', ...ATOM_NS) ?? id;
    return { kind: 'error', reason: `arXiv API error: ${message}`, at };
  }
  if (!looksLikeArxivId(id)) return { kind: 'error', reason: `entry id is not an arXiv id: ${id}`, at };

  const version = idVersion(id);
  const publishedAt = isoDateTime(childText(el, 'published', ...ATOM_NS));
  const updatedAt = isoDateTime(childText(el, 'updated', ...ATOM_NS));
  // `published` dates v1; `updated` dates the version the entry describes.
  const versions: RawVersion[] = [];
  if (publishedAt !== null) versions.push({ version: 1, submittedAt: publishedAt });
  if (version !== null && version > 1 && updatedAt !== null) versions.push({ version, submittedAt: updatedAt });

  const primaryCategory = nonBlank(child(el, 'primary_category', ARXIV)?.attrs['term']);
  const categories = new Set<string>();
  if (primaryCategory !== null) categories.add(primaryCategory);
  for (const c of children(el, 'category', ...ATOM_NS)) {
    const term = nonBlank(c.attrs['term']);
    if (term !== null) categories.add(term);
  }

  const paper: RawPaper = {
    id,
    title: childText(el, 'title', ...ATOM_NS),
    abstract: childText(el, 'summary', ...ATOM_NS),
    authors: mapAuthors(el),
    categories: categories.size > 0 ? [...categories] : null,
    primaryCategory,
    comments: childText(el, 'comment', ARXIV),
    journalRef: childText(el, 'journal_ref', ARXIV),
    doi: childText(el, 'doi', ARXIV) ?? doiFromLink(el),
    versions: versions.length > 0 ? versions : null,
    version,
    publishedAt,
    updatedAt,
  };
  return { kind: 'paper', paper, at };
}

function mapAuthors(entry: XmlElement): RawAuthors | null {
  const names: { name: string; affiliations?: string[] }[] = [];
  for (const a of children(entry, 'author', ...ATOM_NS)) {
    const name = childText(a, 'name', ...ATOM_NS);
    if (name === null) continue;
    const affiliations = children(a, 'affiliation', ARXIV)
      .map((x) => nonBlank(x.text))
      .filter((x): x is string => x !== null);
    names.push(affiliations.length > 0 ? { name, affiliations } : { name });
  }
  return names.length > 0 ? { kind: 'names', names } : null;
}

// Both layouts also carry the DOI as a resolver link; used only when the
// `arxiv:doi` element is missing.
function doiFromLink(entry: XmlElement): string | null {
  const link = children(entry, 'link', ...ATOM_NS).find((l) => l.attrs['title'] === 'doi');
  const href = nonBlank(link?.attrs['href']);
  if (href === null) return null;
  return nonBlank(href.replace(/^https?:\/\/(?:dx\.)?doi\.org\//i, ''));
}
