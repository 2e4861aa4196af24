/**
 * Line splitting shared by the line-oriented parsers (JSON lines, `.abs`).
 *
 * Splitting is done by hand on '\n' rather than with node:readline, which is
 * markedly slower on multi-gigabyte inputs such as the Kaggle snapshot. Only
 * the unfinished tail of the previous chunk is kept between chunks, so memory
 * is bounded by the longest line, and that is capped too.
 */

/** One line of input without its terminator, with its 1-based line number. */
export interface Line {
  text: string;
  line: number;
  /** Set when the line was longer than {@link MAX_LINE_LENGTH}; `text` then holds only its start. */
  overflow?: true;
}

/**
 * Longest line kept in full, in UTF-16 code units. The largest real record (a
 * Kaggle line with a long author list) is a few hundred KB; a longer "line" is
 * a file without newlines (binary, minified) and must not exhaust memory.
 */
export const MAX_LINE_LENGTH = 16 * 1024 * 1024;

/** Incremental splitter: feed chunks, get complete lines; `end()` flushes the last one. */
export class LineSplitter {
  private rest = '';
  private restOverflow = false;
  private lineNo = 0;
  private first = true;

  private readonly maxLineLength: number;

  constructor(maxLineLength: number = MAX_LINE_LENGTH) {
    this.maxLineLength = maxLineLength;
  }

  /** Lines completed by `chunk`, in order. */
  push(chunk: string): Line[] {
    const out: Line[] = [];
    if (chunk.length === 0) return out;
    if (this.first) {
      this.first = false;
      // A UTF-8 byte order mark is an encoding artefact, not content.
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    let start = 0;
    let nl = chunk.indexOf('\n');
    while (nl !== -1) {
      let text: string;
      let overflow = false;
      if (this.restOverflow) {
        // The kept start of an overlong line; what streamed past it is dropped.
        text = this.rest;
        overflow = true;
      } else {
        text = this.rest.length > 0 ? this.rest + chunk.slice(start, nl) : chunk.slice(start, nl);
        if (text.length > this.maxLineLength) {
          text = text.slice(0, this.maxLineLength);
          overflow = true;
        }
      }
      this.rest = '';
      this.restOverflow = false;
      if (text.charCodeAt(text.length - 1) === 13) text = text.slice(0, -1);
      this.lineNo++;
      out.push(overflow ? { text, line: this.lineNo, overflow: true } : { text, line: this.lineNo });
      start = nl + 1;
      nl = chunk.indexOf('\n', start);
    }
    if (start < chunk.length && !this.restOverflow) {
      this.rest += start === 0 ? chunk : chunk.slice(start);
      if (this.rest.length > this.maxLineLength) {
        this.rest = this.rest.slice(0, this.maxLineLength);
        this.restOverflow = true;
      }
    }
    return out;
  }

  /** The last line when the input does not end with a newline. */
  end(): Line[] {
    if (this.rest.length === 0 && !this.restOverflow) return [];
    let text = this.rest;
    if (text.charCodeAt(text.length - 1) === 13) text = text.slice(0, -1);
    this.lineNo++;
    const line: Line = this.restOverflow ? { text, line: this.lineNo, overflow: true } : { text, line: this.lineNo };
    this.rest = '';
    this.restOverflow = false;
    return [line];
  }
}

/** Splits a text stream into lines ('\n' or '\r\n'), numbered from 1, as chunks arrive. */
export async function* lines(input: AsyncIterable<string>): AsyncGenerator<Line> {
  const splitter = new LineSplitter();
  for await (const chunk of input) yield* splitter.push(chunk);
  yield* splitter.end();
}

/** A JSON-lines entry: the parsed value, or why the line is not JSON. */
export type JsonLine = { ok: true; value: unknown; line: number } | { ok: false; reason: string; line: number };

/** Parses one non-blank line; blank lines give `null`. */
function parseJsonLine(l: Line): JsonLine | null {
  if (l.overflow) return { ok: false, reason: `line longer than ${MAX_LINE_LENGTH / (1024 * 1024)}M characters`, line: l.line };
  const text = l.text;
  // Cheap blank test first: nearly every line starts with '{'.
  if (text.length === 0 || (text.charCodeAt(0) <= 32 && text.trim() === '')) return null;
  try {
    return { ok: true, value: JSON.parse(text) as unknown, line: l.line };
  } catch (err) {
    return { ok: false, reason: `invalid JSON: ${(err as Error).message}`, line: l.line };
  }
}

/** Parses JSON lines as they arrive; blank lines are ignored, bad lines reported with their number. */
export async function* jsonLines(input: AsyncIterable<string>): AsyncGenerator<JsonLine> {
  const splitter = new LineSplitter();
  // Lines are handled straight from the splitter rather than through lines():
  // one generator layer less per record matters at millions of records.
  for await (const chunk of input) {
    for (const l of splitter.push(chunk)) {
      const parsed = parseJsonLine(l);
      if (parsed !== null) yield parsed;
    }
  }
  for (const l of splitter.end()) {
    const parsed = parseJsonLine(l);
    if (parsed !== null) yield parsed;
  }
}

/** True for a plain JSON object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Describes a JSON value's type for error messages ("array", "null", "number"…). */
export function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
