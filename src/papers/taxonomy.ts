import { taxonomyData } from './taxonomy-data.js';

interface TaxonomyData {
  groups: { id: string; name: string }[];
  archives: { id: string; name: string; group: string; active: boolean }[];
  categories: { id: string; name: string; archive: string; active: boolean; alt?: string }[];
  /** Alias category -> canonical category (e.g. math.MP -> math-ph). */
  aliases: Record<string, string>;
  /** Retired archive -> the category that took it over (e.g. alg-geom -> math.AG). */
  subsumed: Record<string, string>;
}

const data: TaxonomyData = taxonomyData;

export type Category = TaxonomyData['categories'][number];
export type Archive = TaxonomyData['archives'][number];

const categoriesById = new Map(data.categories.map((c) => [c.id, c]));
const archivesById = new Map(data.archives.map((a) => [a.id, a]));

export function findCategory(id: string): Category | undefined {
  return categoriesById.get(id);
}

export function findArchive(id: string): Archive | undefined {
  return archivesById.get(id);
}

/** The categories of an archive; `math` gives math.AC … math.ST. */
export function categoriesOfArchive(archiveId: string): Category[] {
  return data.categories.filter((c) => c.archive === archiveId);
}

/** Canonical id for an alias such as `math.MP` (-> `math-ph`); other ids unchanged. */
export function canonicalCategory(id: string): string {
  return data.aliases[id] ?? id;
}

export function isKnownCategory(id: string): boolean {
  return categoriesById.has(id) || id in data.aliases;
}

/**
 * Parses a comma- or space-separated list of categories and archives, expanding
 * each archive to its categories (`hep-th` is both an archive and its only
 * category). Order is kept and duplicates are dropped.
 */
export function parseCategoryList(list: string): { categories: string[]; unknown: string[] } {
  const categories = new Set<string>();
  const unknown: string[] = [];
  for (const token of list.split(/[\s,]+/).filter(Boolean)) {
    if (categoriesById.has(token)) {
      categories.add(token);
      if (archivesById.has(token)) for (const c of categoriesOfArchive(token)) categories.add(c.id);
    } else if (archivesById.has(token)) {
      for (const c of categoriesOfArchive(token)) categories.add(c.id);
    } else if (token in data.aliases) {
      categories.add(token);
    } else {
      unknown.push(token);
    }
  }
  return { categories: [...categories], unknown };
}

export const taxonomy: Readonly<TaxonomyData> = data;

/** "Machine Learning (cs.LG)" for a category or archive id; the id itself when unknown. */
export function categoryTitle(id: string): string {
  const known = findCategory(id) ?? findArchive(id);
  return known ? `${known.name} (${id})` : id;
}
