import { normalizePaper, type NormalizedPaper } from '../papers/normalize.js';
import { hashState, stateFromIncoming } from './paper-state.js';
import type { ParseItem, SourcePosition } from './record.js';

/**
 * A parsed item made ready for the store: papers normalised (or rejected with
 * the reason), everything else as parsed. Preparing is pure CPU work with no
 * database access, so the import does it on a second thread.
 */
export type PreparedItem =
  | Exclude<ParseItem, { kind: 'paper' }>
  /** `hash`: the paper's state digest if it is new to the database (see the paper writers in src/db/). */
  | { kind: 'paper'; paper: NormalizedPaper; hash: string; at: SourcePosition }
  | { kind: 'invalid'; reason: string; at: SourcePosition };

/** Normalises a parsed item. */
export function prepareItem(item: ParseItem): PreparedItem {
  if (item.kind !== 'paper') return item;
  const paper = normalizePaper(item.paper);
  if ('error' in paper) return { kind: 'invalid', reason: paper.error, at: item.at };
  return { kind: 'paper', paper, hash: hashState(stateFromIncoming(paper)), at: item.at };
}
