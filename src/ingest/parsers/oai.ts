/**
 * arXiv OAI-PMH responses (`GetRecord`, `ListRecords`) in the `arXiv`,
 * `arXivRaw` and `arXivOld` metadata formats.
 */
import { parseArxivDate } from '../../papers/dates.js';
import type { ParseItem, Parser, RawAuthors, RawPaper, RawVersion } from '../record.js';
import {
  child,
  childText,
  children,
  intOrNull,
  isName,
  isoDateTime,
  looksLikeArxivId,
  nonBlank,
  readWhole,
  streamXml,
} from './xml.js';
import type { XmlElement, XmlName } from './xml.js';

// Servers always use the OAI namespace; a bare copy without it is still read.
const OAI_NS = ['http://www.openarchives.org/OAI/2.0/', ''];
const LISTS = ['GetRecord', 'ListRecords'];

/** An OAI-PMH protocol error (`<error code="…">`). */
export interface OaiError {
  code: string;
  message: string;
}

/** One response page as a harvester needs it. */
export interface OaiPage {
  items: ParseItem[];
  /** Token for the next request; null when the list is complete (absent or empty token). */
  resumptionToken: string | null;
  completeListSize: number | null;
  cursor: number | null;
  errors: OaiError[];
  /** `<responseDate>` as the server wrote it. */
  responseDate: string | null;
  /** Header datestamps of every record, deleted ones included, in order. */
  datestamps: string[];
}

type PageMeta = Omit<OaiPage, 'items'>;

const selectOai = (ancestors: readonly XmlName[], el: XmlName): boolean => {
  if (ancestors.length === 1) {
    return isName(el, 'responseDate', ...OAI_NS) || isName(el, 'error', ...OAI_NS);
  }
  if (ancestors.length === 2 && LISTS.some((l) => isName(ancestors[1] as XmlName, l, ...OAI_NS))) {
    return isName(el, 'record', ...OAI_NS) || isName(el, 'resumptionToken', ...OAI_NS);
  }
  return false;
};

/** Items of the response in order; returns the page fields once it has ended. */
async function* readResponse(input: AsyncIterable<string>): AsyncGenerator<ParseItem, PageMeta> {
  const meta: PageMeta = {
    resumptionToken: null,
    completeListSize: null,
    cursor: null,
    errors: [],
    responseDate: null,
    datestamps: [],
  };
  let records = 0;
  for await (const ev of streamXml(input, selectOai)) {
    switch (ev.type) {
      case 'root':
        if (!isName(ev.name, 'OAI-PMH', ...OAI_NS)) {
          yield { kind: 'error', reason: `not an OAI-PMH response: root element is <${ev.name.name}>`, at: { line: ev.line } };
          return meta;
        }
        break;
      case 'element': {
        const el = ev.el;
        if (el.local === 'record') {
          records += 1;
          const datestamp = childText(child(el, 'header', ...OAI_NS) ?? el, 'datestamp', ...OAI_NS);
          if (datestamp !== null) meta.datestamps.push(datestamp);
          yield mapRecord(el, records);
        } else if (el.local === 'resumptionToken') {
          meta.resumptionToken = nonBlank(el.text);
          meta.completeListSize = intOrNull(el.attrs['completeListSize']);
          meta.cursor = intOrNull(el.attrs['cursor']);
        } else if (el.local === 'responseDate') {
          meta.responseDate = nonBlank(el.text);
        } else if (el.local === 'error') {
          const code = nonBlank(el.attrs['code']) ?? 'unknown';
          const message = nonBlank(el.text) ?? '';
          meta.errors.push({ code, message });
          const at = { line: el.line };
          // An empty harvest window is a normal answer, not a failure.
          yield code === 'noRecordsMatch'
            ? { kind: 'skip', reason: `OAI-PMH noRecordsMatch: ${message}`.trim(), at }
            : { kind: 'error', reason: `OAI-PMH error ${code}: ${message}`.trim(), at };
        }
        break;
      }
      case 'end':
        // Without an item the import summary would not mention the file at all.
        if (records === 0 && meta.errors.length === 0) {
          yield { kind: 'skip', reason: 'OAI-PMH response has no records', at: { line: ev.line } };
        }
        break;
      case 'error':
        yield { kind: 'error', reason: ev.reason, at: { line: ev.line } };
        return meta;
    }
  }
  return meta;
}

/** Parses an OAI-PMH response into one item per `<record>` (and per protocol error). */
export const parseOaiPmh: Parser = async function* parseOaiPmh(input) {
  yield* readResponse(input);
};

/** Parses one whole OAI-PMH response page, with what a harvester needs to continue. */
export function readOaiPage(xml: string): Promise<OaiPage> {
  return readWhole(readResponse, xml);
}

function mapRecord(record: XmlElement, index: number): ParseItem {
  const at = { record: index, line: record.line };
  const header = child(record, 'header', ...OAI_NS);
  const identifier = header === undefined ? null : childText(header, 'identifier', ...OAI_NS);
  if (header?.attrs['status'] === 'deleted') {
    return { kind: 'skip', reason: `deleted record ${identifier ?? '(no identifier)'}`, at };
  }
  const metadata = child(record, 'metadata', ...OAI_NS);
  const body = metadata?.children[0];
  const label = identifier ?? `record ${index}`;
  if (body === undefined) return { kind: 'error', reason: `${label}: record has no metadata`, at };

  // Children are matched by local name only: hepcrawl's fixtures show an
  // `<arXiv>` element that lost its xmlns and so sits in the OAI namespace.
  const id = childText(body, 'id');
  if (id === null) return { kind: 'error', reason: `${label}: metadata has no <id>`, at };
  if (!looksLikeArxivId(id)) return { kind: 'error', reason: `${label}: id is not an arXiv id: ${id}`, at };

  let paper: RawPaper;
  switch (body.local) {
    case 'arXiv':
      paper = mapArxiv(body, id);
      break;
    case 'arXivRaw':
      paper = mapArxivRaw(body, id);
      break;
    case 'arXivOld':
      paper = { ...commonFields(body, id), authors: textAuthors(body) };
      break;
    default:
      return { kind: 'error', reason: `${label}: unsupported metadata format <${body.name}>`, at };
  }
  return { kind: 'paper', paper, at };
}

/** Fields the three formats share, under the same element names. */
function commonFields(m: XmlElement, id: string): RawPaper {
  const categories = childText(m, 'categories')?.split(/\s+/) ?? null;
  return {
    id,
    title: childText(m, 'title'),
    abstract: childText(m, 'abstract'),
    categories,
    comments: childText(m, 'comments'),
    journalRef: childText(m, 'journal-ref'),
    doi: childText(m, 'doi'),
    reportNo: childText(m, 'report-no'),
    mscClass: childText(m, 'msc-class'),
    acmClass: childText(m, 'acm-class'),
    license: childText(m, 'license'),
  };
}

function textAuthors(m: XmlElement): RawAuthors | null {
  const value = childText(m, 'authors');
  return value === null ? null : { kind: 'text', value };
}

// The `arXiv` format dates only the first (`created`) and latest (`updated`)
// versions without numbering them, so no version list is built from it.
function mapArxiv(m: XmlElement, id: string): RawPaper {
  const parts: Extract<RawAuthors, { kind: 'parts' }>['parts'] = [];
  for (const a of children(child(m, 'authors') ?? m, 'author')) {
    // Real records repeat <keyname> inside one author; the pieces belong together.
    const keynames = children(a, 'keyname')
      .map((k) => nonBlank(k.text))
      .filter((k): k is string => k !== null);
    let keyname: string | null = keynames.length > 0 ? keynames.join(' ') : null;
    let forenames = childText(a, 'forenames');
    // A mononym may come as forenames only; the keyname is the name to sort on.
    if (keyname === null) [keyname, forenames] = [forenames, null];
    if (keyname === null) continue;
    const suffix = childText(a, 'suffix');
    const affiliations = children(a, 'affiliation')
      .map((x) => nonBlank(x.text))
      .filter((x): x is string => x !== null);
    parts.push({
      keyname,
      ...(forenames !== null ? { forenames } : {}),
      ...(suffix !== null ? { suffix } : {}),
      ...(affiliations.length > 0 ? { affiliations } : {}),
    });
  }
  return {
    ...commonFields(m, id),
    authors: parts.length > 0 ? { kind: 'parts', parts } : null,
    versions: null,
    publishedAt: isoDateTime(childText(m, 'created')),
    updatedAt: isoDateTime(childText(m, 'updated')),
  };
}

function mapArxivRaw(m: XmlElement, id: string): RawPaper {
  const common = commonFields(m, id);
  const versions: RawVersion[] = [];
  children(m, 'version').forEach((v, i) => {
    const n = /^v(\d{1,6})$/.exec(v.attrs['version']?.trim() ?? '');
    const date = childText(v, 'date');
    const submittedAt = date === null ? null : parseArxivDate(date);
    // A version without a usable date cannot be placed in the history.
    if (submittedAt === null) return;
    const size = childText(v, 'size');
    versions.push({
      version: n?.[1] !== undefined ? Number(n[1]) : i + 1,
      submittedAt,
      ...(size !== null ? { size } : {}),
    });
  });
  return {
    ...common,
    authors: textAuthors(m),
    // arXivRaw's category string is the submission's own: primary first.
    primaryCategory: common.categories?.[0] ?? null,
    submitter: childText(m, 'submitter'),
    versions: versions.length > 0 ? versions : null,
    version: versions.length > 0 ? Math.max(...versions.map((v) => v.version)) : null,
  };
}
