/**
 * RSS 2.0 and Atom 1.0 (RFC 4287) writers over one neutral feed shape. Pure:
 * the routes decide what goes into a feed, these decide how it is spelled.
 *
 * Every string goes through `xmlText`/`xmlAttr`, which drop the characters
 * XML 1.0 forbids (old arXiv records carry stray control characters) and
 * escape the rest, so no title or abstract (TeX full of `&` and `<`) can make
 * a feed ill-formed. Text is plain: titles and summaries are the TeX-stripped
 * versions, and Atom marks them `type="text"`.
 */
import { escapeHtml } from '../web/html.js';

/** One paper in a feed. */
export interface SyndicationItem {
  /** Stable, globally unique id: the absolute paper URL or a `tag:` URI. */
  id: string;
  /** Absolute URL of the paper's page. */
  url: string;
  title: string;
  /** Plain text; paragraphs separated by a blank line. */
  summary: string;
  authors: readonly string[];
  categories: readonly string[];
  published: Date;
  /** Not before `published`. */
  updated: Date;
}

/** A feed, independent of its format. */
export interface SyndicationFeed {
  title: string;
  description: string;
  /** Absolute URL of this very document (RSS `atom:link rel="self"`, Atom `link rel="self"`). */
  selfUrl: string;
  /** Absolute URL of the HTML page showing the same papers. */
  htmlUrl: string;
  /** Stable Atom feed id (an absolute URL or `tag:` URI). */
  id: string;
  updated: Date;
  items: readonly SyndicationItem[];
}

/** Who publishes the feeds: Atom requires an author for entries that list none. */
const PUBLISHER = 'Paperboy';
/**
 * Authors written per item. Collaboration papers list thousands; a feed reader
 * shows a handful, and the paper page has them all.
 */
export const MAX_FEED_AUTHORS = 25;

const RSS_NS = { atom: 'http://www.w3.org/2005/Atom', dc: 'http://purl.org/dc/elements/1.1/' } as const;
const ATOM_NS = 'http://www.w3.org/2005/Atom';

// XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
// With the `u` flag a lone surrogate is one code point outside every range, so it goes too.
const ILLEGAL_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** The text without the characters XML 1.0 does not allow anywhere in a document. */
export function stripIllegalXml(text: string): string {
  return text.replace(ILLEGAL_XML, '');
}

const TEXT_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#xD;' };
// Attribute values are normalised by parsers (tab, newline, CR become spaces),
// so those are written as character references to survive the round trip.
const ATTR_ESCAPES: Record<string, string> = { ...TEXT_ESCAPES, '"': '&quot;', '\t': '&#x9;', '\n': '&#xA;' };

/** Character data: escaped, with illegal characters removed. A lone CR is kept as `&#xD;` (parsers turn a literal one into LF). */
export function xmlText(text: string): string {
  return stripIllegalXml(text).replace(/[&<>\r]/g, (c) => TEXT_ESCAPES[c] ?? c);
}

/** A double-quoted attribute value: escaped, with illegal characters removed. */
export function xmlAttr(text: string): string {
  return stripIllegalXml(text).replace(/[&<>"\t\n\r]/g, (c) => ATTR_ESCAPES[c] ?? c);
}

function checkedDate(date: Date): Date {
  if (Number.isNaN(date.getTime())) throw new RangeError('feed date is invalid');
  return date;
}

/** RFC 822 date as RSS 2.0 wants it, with a numeric zone: `Tue, 03 Apr 2007 12:00:00 +0000`. */
export function rfc822(date: Date): string {
  return checkedDate(date).toUTCString().replace(/GMT$/, '+0000');
}

/** RFC 3339 timestamp in UTC, whole seconds: `2007-04-03T12:00:00Z`. */
export function rfc3339(date: Date): string {
  return checkedDate(date).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function shownAuthors(authors: readonly string[]): { names: string[]; more: number } {
  const names = authors.map((a) => a.trim()).filter((a) => a !== '');
  return { names: names.slice(0, MAX_FEED_AUTHORS), more: Math.max(0, names.length - MAX_FEED_AUTHORS) };
}

function authorLine(authors: readonly string[]): string {
  const { names, more } = shownAuthors(authors);
  return more > 0 ? `${names.join(', ')} and ${more} more` : names.join(', ');
}

function paragraphs(text: string): string[] {
  return text
    .split(/\n[ \t]*\n/)
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

/**
 * The RSS description is HTML by convention (readers render it), so plain
 * text is HTML-escaped first and the result XML-escaped: a `<b>` in an
 * abstract reaches the reader as text, not markup.
 */
function rssDescription(item: SyndicationItem): string {
  const authors = authorLine(item.authors);
  const parts = [
    ...(authors ? [`<p>Authors: ${escapeHtml(authors)}</p>`] : []),
    ...paragraphs(item.summary).map((p) => `<p>${escapeHtml(p)}</p>`),
  ];
  return parts.join('');
}

function rssItem(item: SyndicationItem): string {
  const authors = authorLine(item.authors);
  const lines = [
    '<item>',
    `<title>${xmlText(item.title)}</title>`,
    `<link>${xmlText(item.url)}</link>`,
    `<guid isPermaLink="${item.id === item.url ? 'true' : 'false'}">${xmlText(item.id)}</guid>`,
    `<pubDate>${rfc822(item.published)}</pubDate>`,
    ...(authors ? [`<dc:creator>${xmlText(authors)}</dc:creator>`] : []),
    ...item.categories.map((c) => `<category>${xmlText(c)}</category>`),
    `<description>${xmlText(rssDescription(item))}</description>`,
    '</item>',
  ];
  return lines.join('\n');
}

/** The feed as an RSS 2.0 document (with `atom:link rel="self"` and `dc:creator`). */
export function renderRss(feed: SyndicationFeed): string {
  const lines = [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<rss version="2.0" xmlns:atom="${RSS_NS.atom}" xmlns:dc="${RSS_NS.dc}">`,
    '<channel>',
    `<title>${xmlText(feed.title)}</title>`,
    `<link>${xmlText(feed.htmlUrl)}</link>`,
    `<description>${xmlText(feed.description)}</description>`,
    `<atom:link href="${xmlAttr(feed.selfUrl)}" rel="self" type="application/rss+xml"/>`,
    '<language>en</language>',
    `<lastBuildDate>${rfc822(feed.updated)}</lastBuildDate>`,
    `<generator>${PUBLISHER}</generator>`,
    '<docs>https://www.rssboard.org/rss-specification</docs>',
    ...feed.items.map(rssItem),
    '</channel>',
    '</rss>',
    '',
  ];
  return lines.join('\n');
}

function atomEntry(item: SyndicationItem): string {
  // A cut list is not padded with an "et al." author: clients such as
  // reference managers import author elements as people.
  const authors = shownAuthors(item.authors).names;
  const lines = [
    '<entry>',
    `<id>${xmlText(item.id)}</id>`,
    `<title type="text">${xmlText(item.title)}</title>`,
    `<link rel="alternate" type="text/html" href="${xmlAttr(item.url)}"/>`,
    `<published>${rfc3339(item.published)}</published>`,
    `<updated>${rfc3339(item.updated)}</updated>`,
    ...authors.map((name) => `<author><name>${xmlText(name)}</name></author>`),
    ...item.categories.map((c) => `<category term="${xmlAttr(c)}"/>`),
    `<summary type="text">${xmlText(item.summary)}</summary>`,
    '</entry>',
  ];
  return lines.join('\n');
}

/** The feed as an Atom 1.0 document (RFC 4287). */
export function renderAtom(feed: SyndicationFeed): string {
  const lines = [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<feed xmlns="${ATOM_NS}">`,
    `<id>${xmlText(feed.id)}</id>`,
    `<title type="text">${xmlText(feed.title)}</title>`,
    `<subtitle type="text">${xmlText(feed.description)}</subtitle>`,
    `<updated>${rfc3339(feed.updated)}</updated>`,
    `<link rel="self" type="application/atom+xml" href="${xmlAttr(feed.selfUrl)}"/>`,
    `<link rel="alternate" type="text/html" href="${xmlAttr(feed.htmlUrl)}"/>`,
    // Inherited only by entries without authors of their own (RFC 4287 §4.1.1).
    `<author><name>${PUBLISHER}</name></author>`,
    `<generator>${PUBLISHER}</generator>`,
    ...feed.items.map(atomEntry),
    '</feed>',
    '',
  ];
  return lines.join('\n');
}
