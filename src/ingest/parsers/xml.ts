/**
 * Streaming XML plumbing shared by the Atom and OAI-PMH parsers.
 *
 * saxes reads the input chunk by chunk; only the subtrees a format selects
 * (one `<entry>`, one `<record>`, a few page-level fields) are materialised as
 * small element trees, so memory stays bounded by the largest record rather
 * than by the file.
 */
import type { ParseItem } from '../record.js';
import { SaxesParser } from 'saxes';
import type { SaxesTagNS } from 'saxes';

/** An element's expanded name: namespace URI (`''` when none) and local name. */
export interface XmlName {
  uri: string;
  local: string;
}

/** A materialised element of a selected subtree. */
export interface XmlElement extends XmlName {
  /** Qualified name as written (`arxiv:doi`), for messages. */
  name: string;
  /** Attribute values: no-namespace attributes by local name, others as `{uri}local`. */
  attrs: Record<string, string>;
  /** Text content of the element and its descendants, in document order, untrimmed. */
  text: string;
  children: XmlElement[];
  /** 1-based line of the start tag. */
  line: number;
}

/** What {@link streamXml} reports, in document order. */
export type XmlEvent =
  /** The root element has opened (its subtree is not materialised unless selected). */
  | { type: 'root'; name: XmlName & { name: string }; line: number }
  /** A selected element has closed; `path` holds its ancestors, outermost first. */
  | { type: 'element'; el: XmlElement; path: readonly XmlName[] }
  /** The document has ended well-formed; `line` is the last line. */
  | { type: 'end'; line: number }
  /** The first well-formedness error; nothing follows it. */
  | { type: 'error'; reason: string; line: number };

/**
 * Decides whether an element is materialised, given its ancestors (outermost
 * first) and its own name. Asked only for elements outside selected subtrees.
 */
export type XmlSelector = (ancestors: readonly XmlName[], el: XmlName) => boolean;

const XMLNS_URI = 'http://www.w3.org/2000/xmlns/';

interface Building {
  el: XmlElement;
  /** Text pieces of this element, joined on close so long texts cost O(n). */
  parts: string[];
}

/** Streams `input` through saxes and yields selected subtrees as they close. */
export async function* streamXml(
  input: AsyncIterable<string>,
  select: XmlSelector,
): AsyncGenerator<XmlEvent> {
  const parser = new SaxesParser({ xmlns: true });
  // saxes reports through callbacks during write(); events are buffered and
  // drained after each chunk so the generator can yield them.
  let queue: XmlEvent[] = [];
  let failed = false;
  let rootSeen = false;
  const ancestors: XmlName[] = [];
  // Non-empty while inside a selected subtree; [0] is the selected element.
  const building: Building[] = [];
  let lastElementPosition = -1;

  const report = (err: Error): void => {
    // saxes keeps going after an error; only the first one is trustworthy.
    if (failed) return;
    failed = true;
    // saxes pops an element and calls the close handler before it checks the
    // end tag's name, so `<entry>…</entrx>` would already have been emitted.
    const last = queue[queue.length - 1];
    if (last?.type === 'element' && parser.position === lastElementPosition) queue.pop();
    const message = err.message.replace(/^\d+:\d+: /, '');
    queue.push({
      type: 'error',
      reason: `XML not well-formed (line ${parser.line}, column ${parser.column}): ${message}`,
      line: parser.line,
    });
  };
  parser.on('error', report);
  // saxes throws instead of reporting on a few malformed inputs (a lone
  // surrogate right after `<!` ends in String.fromCodePoint(NaN)): the same
  // "not well-formed" for those, never an exception out of an import.
  const feed = (write: () => void): void => {
    try {
      write();
    } catch (err) {
      report(err instanceof Error ? err : new Error(String(err)));
    }
  };

  parser.on('opentag', (tag: SaxesTagNS) => {
    if (failed) return;
    const name: XmlName = { uri: tag.uri, local: tag.local };
    if (!rootSeen) {
      rootSeen = true;
      queue.push({ type: 'root', name: { ...name, name: tag.name }, line: parser.line });
    }
    if (building.length === 0 && !select(ancestors, name)) {
      ancestors.push(name);
      return;
    }
    const attrs: Record<string, string> = {};
    for (const a of Object.values(tag.attributes)) {
      // Namespace declarations are already resolved into the names.
      if (a.uri === XMLNS_URI || a.prefix === 'xmlns' || (a.prefix === '' && a.local === 'xmlns')) continue;
      attrs[a.uri === '' ? a.local : `{${a.uri}}${a.local}`] = a.value;
    }
    // Explicit fields, not a spread: the spread made this handler ~10x slower.
    const el: XmlElement = {
      uri: tag.uri,
      local: tag.local,
      name: tag.name,
      attrs,
      text: '',
      children: [],
      line: parser.line,
    };
    const parent = building[building.length - 1];
    if (parent !== undefined) parent.el.children.push(el);
    building.push({ el, parts: [] });
  });

  const onText = (text: string): void => {
    if (failed) return;
    const top = building[building.length - 1];
    if (top !== undefined) top.parts.push(text);
  };
  parser.on('text', onText);
  parser.on('cdata', onText);

  parser.on('closetag', () => {
    if (failed) return;
    const done = building.pop();
    if (done === undefined) {
      ancestors.pop();
      return;
    }
    done.el.text = done.parts.join('');
    const parent = building[building.length - 1];
    if (parent !== undefined) {
      parent.parts.push(done.el.text);
    } else {
      queue.push({ type: 'element', el: done.el, path: ancestors.slice() });
      lastElementPosition = parser.position;
    }
  });

  parser.on('end', () => {
    if (failed) return;
    queue.push({ type: 'end', line: parser.line });
  });

  const drain = function* (): Generator<XmlEvent, boolean> {
    const batch = queue;
    queue = [];
    for (const ev of batch) {
      yield ev;
      if (ev.type === 'error') return true;
    }
    return false;
  };

  for await (const chunk of input) {
    feed(() => parser.write(chunk));
    if (yield* drain()) return;
  }
  feed(() => parser.close());
  yield* drain();
}

/** Whether `n` has local name `local` in one of the namespaces `uris`. */
export function isName(n: XmlName, local: string, ...uris: string[]): boolean {
  return n.local === local && (uris.length === 0 || uris.includes(n.uri));
}

/** First child with the given local name (in one of `uris` when given). */
export function child(el: XmlElement, local: string, ...uris: string[]): XmlElement | undefined {
  return el.children.find((c) => isName(c, local, ...uris));
}

/** All children with the given local name (in one of `uris` when given). */
export function children(el: XmlElement, local: string, ...uris: string[]): XmlElement[] {
  return el.children.filter((c) => isName(c, local, ...uris));
}

/** Trimmed text of the first matching child; null when absent or blank. */
export function childText(el: XmlElement, local: string, ...uris: string[]): string | null {
  const c = child(el, local, ...uris);
  return c === undefined ? null : nonBlank(c.text);
}

/** `s` trimmed, or null when it is blank. */
export function nonBlank(s: string | null | undefined): string | null {
  if (s == null) return null;
  const t = s.trim();
  return t === '' ? null : t;
}

/** Parses a non-negative decimal integer; null for anything else. */
export function intOrNull(s: string | null | undefined): number | null {
  const t = nonBlank(s);
  if (t === null || !/^\d{1,15}$/.test(t)) return null;
  return Number(t);
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * ISO 8601 UTC (`…T…Z`) from an ISO-like date or datetime; null when the
 * string is not ISO-like or names no real instant.
 */
export function isoDateTime(s: string | null | undefined): string | null {
  const t = nonBlank(s);
  if (t === null) return null;
  const d = DATE_ONLY.exec(t);
  if (d !== null) {
    // A bare date stays that calendar day; `new Date('YYYY-MM-DD')` agrees,
    // but would also accept 2021-02-30 by rolling over, which we refuse.
    const date = new Date(`${t}T00:00:00.000Z`);
    if (Number.isNaN(date.getTime())) return null;
    if (date.getUTCDate() !== Number(d[3]) || date.getUTCMonth() + 1 !== Number(d[2])) return null;
    return date.toISOString();
  }
  const m = ISO_DATETIME.exec(t);
  if (m === null) return null;
  // A datetime without offset would otherwise be read as local time.
  const withZone = (m[1] === undefined ? `${t}Z` : t).replace(' ', 'T');
  const date = new Date(withZone);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

// New-style (`2106.09685`, `0704.0001`) and old-style (`hep-th/9901001`,
// `math.GT/0309136`) ids, optionally versioned, possibly after a URL or
// `arXiv:` prefix. Parsers only check that the id is recognisable; the
// pipeline normalises it.
const ARXIV_ID = /(?:^|[/:\s])(\d{4}\.\d{4,5}|[a-z][a-z-]*(?:\.[a-z]{2})?\/\d{7})(?:v(\d+))?$/i;

/** Whether `s` ends in something shaped like an arXiv id. */
export function looksLikeArxivId(s: string): boolean {
  return ARXIV_ID.test(s);
}

/** The `vN` suffix of an id as a number; null when there is none. */
export function idVersion(s: string): number | null {
  const m = ARXIV_ID.exec(s);
  if (m === null || m[2] === undefined) return null;
  const v = Number(m[2]);
  return Number.isSafeInteger(v) && v >= 1 ? v : null;
}

/** Runs a streaming reader over one whole document and collects its items and final result. */
export async function readWhole<R>(
  reader: (input: AsyncIterable<string>) => AsyncGenerator<ParseItem, R>,
  xml: string,
): Promise<{ items: ParseItem[] } & R> {
  const gen = reader(
    (async function* () {
      yield xml;
    })(),
  );
  const items: ParseItem[] = [];
  for (;;) {
    const r = await gen.next();
    if (r.done === true) return { items, ...r.value };
    items.push(r.value);
  }
}
