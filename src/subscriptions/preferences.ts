/**
 * What a subscriber chooses: how often, how many papers, which categories,
 * which keywords to boost and which to mute. One schema validates the API,
 * the preferences form and the stored JSON columns.
 */
import type { Selectable } from 'kysely';
import { z } from 'zod';
import type { DigestCadence, SubscribersTable } from '../db/schema.js';
import { isKnownCategory, findArchive } from '../papers/taxonomy.js';

export const CADENCES: readonly DigestCadence[] = ['daily', 'weekly'];
export const MAX_PAPER_COUNT = 50;
export const DEFAULT_PAPER_COUNT = 10;
const MAX_LIST = 20;
const MAX_KEYWORD_LENGTH = 60;

/** Trimmed, whitespace folded, and the first spelling of case-insensitive duplicates kept. */
function tidyList(values: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const value of values) {
    const tidy = value.trim().replace(/\s+/g, ' ');
    const key = tidy.toLowerCase();
    if (tidy === '' || seen.has(key)) continue;
    seen.add(key);
    out.push(tidy);
  }
  return out;
}

const keywordList = z
  .array(z.string().max(MAX_KEYWORD_LENGTH, `a keyword has at most ${MAX_KEYWORD_LENGTH} characters`))
  .transform(tidyList)
  .refine((list) => list.length <= MAX_LIST, { message: `at most ${MAX_LIST} keywords` });

const categoryList = z
  .array(z.string())
  .transform(tidyList)
  .refine((list) => list.length <= MAX_LIST, { message: `at most ${MAX_LIST} categories` })
  .superRefine((list, ctx) => {
    for (const c of list) {
      if (!isKnownCategory(c) && findArchive(c) === undefined) {
        ctx.addIssue({ code: 'custom', message: `unknown arXiv category or archive "${c}"` });
      }
    }
  });

export const PREFERENCES = z.object({
  cadence: z.enum(['daily', 'weekly']).default('daily'),
  paperCount: z.coerce.number().int().min(1).max(MAX_PAPER_COUNT).default(DEFAULT_PAPER_COUNT),
  /** Category ids or archives; empty: every category. */
  categories: categoryList.default([]),
  keywords: keywordList.default([]),
  mutedKeywords: keywordList.default([]),
});

export type Preferences = z.output<typeof PREFERENCES>;

function storedList(json: string): string[] {
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

/** A stored subscriber's preferences (the columns were validated when written). */
export function preferencesOf(
  row: Pick<Selectable<SubscribersTable>, 'cadence' | 'paper_count' | 'categories' | 'keywords' | 'muted_keywords'>,
): Preferences {
  return {
    cadence: row.cadence,
    paperCount: row.paper_count,
    categories: storedList(row.categories),
    keywords: storedList(row.keywords),
    mutedKeywords: storedList(row.muted_keywords),
  };
}

/** The columns that store `prefs`. */
export function preferenceColumns(prefs: Preferences) {
  return {
    cadence: prefs.cadence,
    paper_count: prefs.paperCount,
    categories: JSON.stringify(prefs.categories),
    keywords: JSON.stringify(prefs.keywords),
    muted_keywords: JSON.stringify(prefs.mutedKeywords),
  };
}
