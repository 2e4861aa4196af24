import type { Database } from '../db/connection.js';
import { withPaperBatch } from '../db/paper-writer.js';
import { childText, children, idVersion, isName, nonBlank, streamXml } from '../ingest/parsers/xml.js';
import type { XmlElement, XmlName } from '../ingest/parsers/xml.js';
import type { ParseItem, RawAnnouncement, RawPaper } from '../ingest/record.js';
import type { ApplyOutcome } from '../ingest/paper-row.js';
import { prepareItem } from '../ingest/prepare.js';
import { ArxivError, type ArxivHttpClient } from './http.js';

/**
 * arXiv's daily announcement feeds (rss.arxiv.org): one feed per category or
 * `+`-joined list of categories, rebuilt once per announcement day. Each
 * entry says how it was announced (`arxiv:announce_type`): `new` (first
 * announcement), `cross` (cross-listed into the feed's category),
 * `replace` / `replace-cross` (a new version). Layout of the Atom flavour:
 *
 *   <entry>
 *     <id>oai:arXiv.org:2401.00001v1</id>
 *     <title>…</title>
 *     <summary>arXiv:2401.00001v1 Announce Type: new
 *   Abstract: …</summary>
 *     <category term="cs.LG" scheme="http://arxiv.org/schemas/atom"/>
 *     <published>2024-01-02T00:00:00-05:00</published>   (announcement day, US Eastern)
 *     <arxiv:announce_type>new</arxiv:announce_type>
 *     <dc:rights>http://creativecommons.org/licenses/by/4.0/</dc:rights>
 *     <dc:creator>Ada Lovelace, Alan Turing</dc:creator>
 *     <arxiv:journal_reference>…</arxiv:journal_reference>
 *     <arxiv:DOI>10.…</arxiv:DOI>
 *   </entry>
 *
 * The RSS 2.0 flavour carries the same fields on `<item>` (`guid`,
 * `description`, `pubDate`, `<category>` text); both are read.
 */

const ATOM = 'http://www.w3.org/2005/Atom';
const ARXIV = 'http://arxiv.org/schemas/atom';
const DC = 'http://purl.org/dc/elements/1.1/';

/** How an entry was announced, as arXiv's feed says it. */
export type AnnounceType = 'new' | 'cross' | 'replace' | 'replace-cross';

/** A fetched and parsed listing. */
export interface Listing {
  url: string;
  /** Items for the import pipeline: a paper per entry, plus an announcement per cross-list or replacement. */
  items: ParseItem[];
  /** The announcement day of the listing (`YYYY-MM-DD`), when the feed states it. */
  announcedOn: string | null;
  counts: Record<AnnounceType, number>;
}

/** The listing is not an arXiv announcement feed we can read. */
export class ListingFormatError extends ArxivError {
  override name = 'ListingFormatError';
}

/** The feed URL for a set of categories: `https://rss.arxiv.org/atom/cs.AI+cs.LG`. */
export function listingUrlFor(listingUrl: string, categories: readonly string[]): string {
  return `${listingUrl.replace(/\/+$/, '')}/${categories.map(encodeURIComponent).join('+')}`;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** The `YYYY-MM-DD` day an arXiv timestamp falls on in its own offset (US Eastern for announcements). */
function dayAsWritten(value: string | null): string | null {
  if (value === null) return null;
  const iso = /^(\d{4}-\d{2}-\d{2})(?:[T ]|$)/.exec(value);
  if (iso?.[1] !== undefined) return iso[1];
  // RFC 822 (`Tue, 02 Jan 2024 00:00:00 -0500`): the date fields as written
  // are the local day; converting to UTC first could move it.
  const rfc = /^(?:[a-z]{3},?\s+)?(\d{1,2})\s+([a-z]{3})\s+(\d{4})\b/i.exec(value);
  if (rfc === null) return null;
  const month = MONTHS.indexOf((rfc[2] ?? '').toLowerCase()) + 1;
  const day = `${rfc[3]}-${String(month).padStart(2, '0')}-${(rfc[1] ?? '').padStart(2, '0')}`;
  const check = new Date(`${day}T00:00:00Z`);
  return month > 0 && !Number.isNaN(check.getTime()) && check.toISOString().startsWith(day) ? day : null;
}

const ANNOUNCE_PREFIX = /^\s*arXiv:\S+\s+Announce Type:\s*\S+\s*(?:\r?\n)?\s*Abstract:\s*/i;

function announceType(raw: string | null): AnnounceType | null {
  const t = raw?.toLowerCase();
  return t === 'new' || t === 'cross' || t === 'replace' || t === 'replace-cross' ? t : null;
}

const isEntry = (el: XmlName): boolean => isName(el, 'entry', ATOM, '') || isName(el, 'item', '');

const selectListing = (ancestors: readonly XmlName[], el: XmlName): boolean => {
  // Atom: feed > entry | updated. RSS: rss > channel > item | pubDate.
  if (ancestors.length === 1) return isEntry(el) || isName(el, 'updated', ATOM, '');
  if (ancestors.length === 2 && isName(ancestors[1] as XmlName, 'channel', '')) {
    return isEntry(el) || isName(el, 'pubDate', '') || isName(el, 'lastBuildDate', '');
  }
  return false;
};

function mapEntry(el: XmlElement, index: number, feedDay: string | null): { items: ParseItem[]; type: AnnounceType | null } {
  const at = { record: index, line: el.line };
  const rawId = childText(el, 'id', ATOM, '') ?? childText(el, 'guid', '');
  const id = rawId === null ? null : /(?:^|[:/])(\d{4}\.\d{4,5}(?:v\d+)?|[a-z][a-z-]*(?:\.[A-Z]{2})?\/\d{7}(?:v\d+)?)$/i.exec(rawId)?.[1];
  if (id === undefined || id === null) {
    return { items: [{ kind: 'error', reason: `listing entry without an arXiv id (${rawId ?? 'no id'})`, at }], type: null };
  }
  const type = announceType(childText(el, 'announce_type', ARXIV));
  const day =
    dayAsWritten(childText(el, 'published', ATOM, '')) ?? dayAsWritten(childText(el, 'pubDate', '')) ?? feedDay;
  const summary = childText(el, 'summary', ATOM, '') ?? childText(el, 'description', '');
  const abstract = summary === null ? null : nonBlank(summary.replace(ANNOUNCE_PREFIX, ''));
  const categories = [
    ...children(el, 'category', ATOM, '')
      .map((c) => nonBlank(c.attrs['term']) ?? nonBlank(c.text))
      .filter((c): c is string => c !== null),
  ];
  const creator = childText(el, 'creator', DC);
  const version = idVersion(id);
  const paper: RawPaper = {
    id,
    title: childText(el, 'title', ATOM, ''),
    abstract,
    authors: creator === null ? null : { kind: 'text', value: creator },
    categories: categories.length > 0 ? [...new Set(categories)] : null,
    doi: childText(el, 'DOI', ARXIV) ?? childText(el, 'doi', ARXIV),
    journalRef: childText(el, 'journal_reference', ARXIV) ?? childText(el, 'journal_ref', ARXIV),
    license: childText(el, 'rights', DC),
    version,
    // Only a `new` entry is the paper's own announcement; a cross-list or a
    // replacement is announced on a later day than the paper was.
    announcedOn: type === 'new' ? day : null,
  };
  const items: ParseItem[] = [{ kind: 'paper', paper, at }];
  if ((type === 'cross' || type === 'replace' || type === 'replace-cross') && day !== null) {
    const announcement: RawAnnouncement = {
      id: id.replace(/v\d+$/, ''),
      version: version ?? 1,
      type: type === 'cross' ? 'cross' : 'replace',
      announcedOn: day,
    };
    items.push({ kind: 'announcement', announcement, at });
  }
  return { items, type };
}

/** Parses an arXiv announcement feed (Atom or RSS 2.0) into import items. */
export async function parseListing(xml: string): Promise<Omit<Listing, 'url'>> {
  const counts: Record<AnnounceType, number> = { new: 0, cross: 0, replace: 0, 'replace-cross': 0 };
  const entries: XmlElement[] = [];
  let feedDay: string | null = null;
  for await (const ev of streamXml(
    (async function* () {
      yield xml;
    })(),
    selectListing,
  )) {
    if (ev.type === 'root') {
      if (!isName(ev.name, 'feed', ATOM, '') && !isName(ev.name, 'rss', '')) {
        throw new ListingFormatError(`not an arXiv listing feed: root element is <${ev.name.name}>`);
      }
    } else if (ev.type === 'error') {
      throw new ListingFormatError(`unreadable arXiv listing: ${ev.reason}`);
    } else if (ev.type === 'element') {
      if (isEntry(ev.el)) entries.push(ev.el);
      else if (feedDay === null) feedDay = dayAsWritten(nonBlank(ev.el.text));
    }
  }
  const items: ParseItem[] = [];
  entries.forEach((el, i) => {
    const mapped = mapEntry(el, i + 1, feedDay);
    if (mapped.type !== null) counts[mapped.type] += 1;
    items.push(...mapped.items);
  });
  const announcedOn =
    items.find((i): i is Extract<ParseItem, { kind: 'paper' }> => i.kind === 'paper' && i.paper.announcedOn != null)?.paper
      .announcedOn ?? feedDay;
  return { items, announcedOn: announcedOn ?? null, counts };
}

/** Fetches the newest announcements of arXiv's daily listing feeds. */
export class ArxivListingClient {
  constructor(
    private readonly http: ArxivHttpClient,
    /** Base of the feeds, e.g. `https://rss.arxiv.org/atom`. */
    private readonly listingUrl: string,
  ) {}

  /** The current listing of `categories` (one request for all of them). */
  async fetch(categories: readonly string[], options: { signal?: AbortSignal } = {}): Promise<Listing> {
    if (categories.length === 0) throw new RangeError('no categories to fetch a listing for');
    const url = listingUrlFor(this.listingUrl, categories);
    const response = await this.http.get(url, { accept: 'application/atom+xml, application/rss+xml', signal: options.signal });
    if (response.status !== 200) throw new ListingFormatError(`${new URL(url).host} answered HTTP ${response.status} for ${url}`);
    return { url, ...(await parseListing(response.body)) };
  }
}

/** Counts of `storeListing`. */
export type ListingStoreCounts = Record<ApplyOutcome['status'], number> & { errors: number };

/** Writes a listing's items in one transaction. */
export async function storeListing(database: Database, listing: Pick<Listing, 'items'>): Promise<ListingStoreCounts> {
  return withPaperBatch(database, async (writer) => {
    const counts: ListingStoreCounts = { imported: 0, updated: 0, unchanged: 0, skipped: 0, errors: 0 };
    const items = listing.items.filter((item) => item.kind !== 'error');
    counts.errors = listing.items.length - items.length;
    for (const outcome of await writer.apply(items.map(prepareItem))) counts[outcome.status] += 1;
    return counts;
  });
}
