/**
 * BEIR `corpus.jsonl`: `{_id, title, text, metadata?}` per line. Used to load
 * evaluation corpora (SciFact) through the same pipeline as arXiv metadata.
 */
import type { ParseItem, RawPaper } from '../record.js';
import { isRecord, jsonLines, jsonType } from './lines.js';

/** Longest title made up from the text when a corpus entry has none. */
export const MAX_DERIVED_TITLE = 200;

/**
 * First sentence of `text`, at most {@link MAX_DERIVED_TITLE} characters (cut
 * at a word boundary with an ellipsis). BEIR titles may be empty, and a paper
 * without any title would be useless in lists and search results.
 */
export function firstSentence(text: string): string {
  const flat = text.trim().replace(/\s+/g, ' ');
  let sentence = flat;
  // A full stop ends the sentence only before a capital, digit or bracket (or the
  // end), and not in the first few words, so "e.g." or "Fig. 2" do not cut it short.
  for (const m of flat.matchAll(/[.!?](?= [A-Z0-9"'([]| ?$)/g)) {
    if (m.index + 1 >= 20) {
      sentence = flat.slice(0, m.index + 1);
      break;
    }
  }
  if (sentence.length <= MAX_DERIVED_TITLE) return sentence;
  const cut = sentence.slice(0, MAX_DERIVED_TITLE - 1);
  const space = cut.lastIndexOf(' ');
  return (space > MAX_DERIVED_TITLE / 2 ? cut.slice(0, space) : cut).trimEnd() + '…';
}

/** Converts one corpus line to a paper (id prefixed `beir:`), or says what is wrong. */
export function beirToPaper(value: unknown): RawPaper | { error: string } {
  if (!isRecord(value)) return { error: `line: expected object, got ${jsonType(value)}` };
  const rawId = value._id;
  let id: string;
  // Some BEIR exports write numeric ids as JSON numbers.
  if (typeof rawId === 'string') id = rawId.trim();
  else if (typeof rawId === 'number' && Number.isFinite(rawId)) id = String(rawId);
  else return { error: `_id: expected string, got ${jsonType(rawId)}` };
  if (id === '') return { error: '_id: empty' };
  const { title, text } = value;
  if (title !== undefined && title !== null && typeof title !== 'string') {
    return { error: `title: expected string, got ${jsonType(title)}` };
  }
  if (text !== undefined && text !== null && typeof text !== 'string') {
    return { error: `text: expected string, got ${jsonType(text)}` };
  }
  const abstract = typeof text === 'string' && text.trim() !== '' ? text.trim() : null;
  let t = typeof title === 'string' ? title.trim() : '';
  if (t === '' && abstract !== null) t = firstSentence(abstract);
  if (t === '') return { error: `document ${id}: no title and no text` };
  return { id: `beir:${id}`, title: t, abstract, authors: null, categories: null };
}

/** Parses a BEIR corpus (JSON lines) into papers with `beir:`-prefixed ids. */
export async function* parseBeirCorpus(input: AsyncIterable<string>): AsyncGenerator<ParseItem> {
  for await (const l of jsonLines(input)) {
    const at = { line: l.line };
    if (!l.ok) {
      yield { kind: 'error', reason: l.reason, at };
      continue;
    }
    const paper = beirToPaper(l.value);
    if ('error' in paper) yield { kind: 'error', reason: paper.error, at };
    else yield { kind: 'paper', paper, at };
  }
}
