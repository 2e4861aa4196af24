/**
 * The contract between the format parsers and the import pipeline.
 *
 * Parsers only read their format: they turn what the file says into a
 * `RawPaper` (strings as found, TeX kept, nothing derived). The pipeline then
 * normalises (ids, author names, plain text, links, announcement date) and
 * merges with what the database already holds. A field a format does not carry
 * is `null`/absent, never an empty guess, so a sparse source (a listing without
 * abstracts) cannot erase what a richer one (an .abs file) stored earlier.
 */

/** Authors as a format gives them. */
export type RawAuthors =
  /** arXiv's free-text list: "A. One, B. Two and C. Three (Univ X)". */
  | { kind: 'text'; value: string }
  /** One display name per author (Atom `<author><name>`, BEIR has none). */
  | { kind: 'names'; names: { name: string; affiliations?: string[] }[] }
  /** Already split into parts (OAI `arXiv` keyname/forenames, Kaggle authors_parsed). */
  | {
      kind: 'parts';
      parts: { keyname: string; forenames?: string; suffix?: string; affiliations?: string[] }[];
    };

export interface RawVersion {
  /** 1-based version number. */
  version: number;
  /** When the version was submitted, ISO 8601 UTC (`2007-04-02T19:18:42.000Z`). */
  submittedAt: string;
  /** Size as arXiv states it, e.g. `377kb`. */
  size?: string;
}

export interface RawPaper {
  /** arXiv id as found; may carry a version suffix or an `arXiv:`/URL prefix. */
  id: string;
  title?: string | null;
  abstract?: string | null;
  authors?: RawAuthors | null;
  /** Categories in arXiv order: the first is the primary one. */
  categories?: string[] | null;
  /** Set when the format marks the primary category explicitly (Atom, arXivRaw). */
  primaryCategory?: string | null;
  comments?: string | null;
  journalRef?: string | null;
  doi?: string | null;
  reportNo?: string | null;
  mscClass?: string | null;
  acmClass?: string | null;
  license?: string | null;
  submitter?: string | null;
  /** Versions this record knows about (may be only the latest). */
  versions?: RawVersion[] | null;
  /** Version the metadata fields describe, when the format says so. */
  version?: number | null;
  /** First-version date (ISO date or datetime) when no version list is given. */
  publishedAt?: string | null;
  /** Latest-update date (ISO date or datetime) when no version list is given. */
  updatedAt?: string | null;
  /** Announcement date `YYYY-MM-DD` (UTC date of arXiv's mailing) when the source knows it. */
  announcedOn?: string | null;
  withdrawn?: boolean | null;
}

/** A fact about an existing paper that does not describe the paper itself. */
export interface RawAnnouncement {
  id: string;
  version: number;
  /** `new`, `cross` or `replace`, as in arXiv's mailings. */
  type: 'new' | 'cross' | 'replace';
  announcedOn: string;
}

/** Where in a file an item came from: a 1-based line number or record index. */
export interface SourcePosition {
  line?: number;
  record?: number;
}

export type ParseItem =
  | { kind: 'paper'; paper: RawPaper; at: SourcePosition }
  | { kind: 'announcement'; announcement: RawAnnouncement; at: SourcePosition }
  /** Well-formed input that carries no paper (e.g. an empty Atom result). */
  | { kind: 'skip'; reason: string; at: SourcePosition }
  /** Malformed input: reported with its position, then parsing goes on if it can. */
  | { kind: 'error'; reason: string; at: SourcePosition };

/** A parser reads one decompressed UTF-8 text stream and yields items in order. */
export type Parser = (input: AsyncIterable<string>) => AsyncGenerator<ParseItem>;

export type FormatName =
  | 'atom'
  | 'oai-pmh'
  | 'abs'
  | 'kaggle-jsonl'
  | 'db-export-metadata'
  | 'db-export-next-mail'
  | 'db-export-categories'
  | 'db-export-updates'
  | 'beir-corpus';
