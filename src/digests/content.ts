/**
 * What a digest says: the papers of a period, frozen into the run when it is
 * built, and each recipient's selection of them. Both are stored as JSON
 * (digest_runs.content, digest_deliveries.selection) so that a message
 * rendered again after a crash is the message rendered the first time.
 */
import type { DigestCadence } from '../db/schema.js';

/** One paper as the digest shows it, frozen at build time. */
export interface DigestPaper {
  id: number;
  arxivId: string;
  title: string;
  /** The first authors, and how many there are in all. */
  authors: string[];
  authorCount: number;
  /** One line: the paper's stored summary, or the abstract's first sentence. */
  summary: string;
  categories: string[];
  upvotes: number;
  comments: number;
}

/** A run's frozen content: its period and the period's trending featured papers, best first. */
export interface DigestContent {
  cadence: DigestCadence;
  /** First and last day of the period, YYYY-MM-DD. */
  from: string;
  to: string;
  papers: DigestPaper[];
}

/** One recipient's digest: indexes into `DigestContent.papers`, by section, in order. */
export interface DigestSelection {
  trending: number[];
  /** Papers matching the recipient's boosted keywords that are not in `trending`. */
  keywords: number[];
}
