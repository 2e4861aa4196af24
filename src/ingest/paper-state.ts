import { createHash } from 'node:crypto';
import { estimateAnnouncedOn } from '../papers/announcement.js';
import { extractLinks } from '../papers/links.js';
import type { NormalizedPaper } from '../papers/normalize.js';

/** The stored state of a paper, as the merge sees it. */
export type PaperState = Omit<NormalizedPaper, 'arxivId' | 'announcedEstimate' | 'withdrawn'> & {
  /** True while `announcedOn` is estimated from the first version's time. */
  announcedEstimated: boolean;
  withdrawn: boolean;
};

/** Optional text fields merged one by one (see mergeState). */
const SCALARS = [
  'comments',
  'journalRef',
  'doi',
  'reportNo',
  'mscClass',
  'acmClass',
  'license',
  'submitter',
] as const;

/** Every field of the state in a fixed order, so the digest never depends on how an object was built. */
const STATE_FIELDS = [
  'version',
  'title',
  'titleText',
  'abstract',
  'abstractText',
  'authors',
  'authorsText',
  'categories',
  'primaryCategory',
  ...SCALARS,
  'versions',
  'publishedAt',
  'updatedAt',
  'announcedOn',
  'announcedEstimated',
  'withdrawn',
  'links',
] as const satisfies readonly (keyof PaperState)[];
// Compile-time check that STATE_FIELDS lists every field.
const allFieldsHashed: Exclude<keyof PaperState, (typeof STATE_FIELDS)[number]> extends never ? true : never = true;
void allFieldsHashed;

/** A digest of the whole state: equal digests mean nothing to write. */
export function hashState(s: PaperState): string {
  return createHash('sha1')
    .update(JSON.stringify(STATE_FIELDS.map((k) => s[k])))
    .digest('base64url');
}

/** The state of a paper seen for the first time. */
export function stateFromIncoming(p: NormalizedPaper): PaperState {
  const announcedOn = p.announcedOn ?? p.announcedEstimate;
  return {
    version: p.version,
    title: p.title,
    titleText: p.titleText,
    abstract: p.abstract,
    abstractText: p.abstractText,
    authors: p.authors,
    authorsText: p.authorsText,
    categories: p.categories,
    primaryCategory: p.primaryCategory,
    comments: p.comments,
    journalRef: p.journalRef,
    doi: p.doi,
    reportNo: p.reportNo,
    mscClass: p.mscClass,
    acmClass: p.acmClass,
    license: p.license,
    submitter: p.submitter,
    versions: p.versions,
    publishedAt: p.publishedAt,
    updatedAt: p.updatedAt,
    announcedOn,
    announcedEstimated: p.announcedOn === null,
    withdrawn: p.withdrawn === true,
    links: p.links,
  };
}

/** Merges an incoming record into the stored state (see the paper writers in src/db/). Pure. */
export function mergeState(stored: PaperState, p: NormalizedPaper): PaperState {
  // A newer version's values win. For the same version, sources disagree in
  // small ways (whitespace, a comment edited in place), so the incoming record
  // only fills what is missing: re-importing anything is then a no-op, in
  // whatever order the files come.
  const newer = p.version > stored.version;
  const same = p.version === stored.version;
  const use = (hasIncoming: boolean, hasStored: boolean): boolean => hasIncoming && (newer || (same && !hasStored));
  const take = <T>(incoming: T | null, old: T | null): T | null => (use(incoming !== null, old !== null) ? incoming : old);
  const merged: PaperState = { ...stored };
  merged.version = Math.max(stored.version, p.version);
  if (use(p.title !== '', stored.title !== '')) {
    merged.title = p.title;
    merged.titleText = p.titleText;
  }
  if (use(p.abstract !== '', stored.abstract !== '')) {
    merged.abstract = p.abstract;
    merged.abstractText = p.abstractText;
  }
  if (use(p.authors.length > 0, stored.authors.length > 0)) {
    merged.authors = p.authors;
    merged.authorsText = p.authorsText;
  }
  if (use(p.categories.length > 0, stored.categories.length > 0)) {
    merged.categories = p.categories;
    merged.primaryCategory = p.primaryCategory;
  }
  for (const key of SCALARS) merged[key] = take(p[key], stored[key]);
  if (p.withdrawn !== null && (newer || (same && p.withdrawn))) merged.withdrawn = p.withdrawn;

  const versions = new Map(stored.versions.map((v) => [v.version, v]));
  for (const v of p.versions) {
    const old = versions.get(v.version);
    versions.set(v.version, old === undefined ? v : { ...old, size: old.size ?? v.size });
  }
  merged.versions = [...versions.values()].sort((a, b) => a.version - b.version);
  merged.publishedAt = merged.versions.find((v) => v.version === 1)?.submittedAt ?? stored.publishedAt ?? p.publishedAt;
  const latest = merged.versions.at(-1);
  merged.updatedAt =
    latest !== undefined && latest.version === merged.version
      ? latest.submittedAt
      : take(p.updatedAt, stored.updatedAt) ?? merged.publishedAt;

  if (p.announcedOn !== null && (stored.announcedEstimated || stored.announcedOn === null)) {
    merged.announcedOn = p.announcedOn;
    merged.announcedEstimated = false;
  } else if ((stored.announcedEstimated || stored.announcedOn === null) && merged.publishedAt !== null) {
    merged.announcedOn = estimateAnnouncedOn(merged.publishedAt);
    merged.announcedEstimated = true;
  }
  merged.links =
    merged.abstract === p.abstract && merged.comments === p.comments
      ? p.links
      : extractLinks(merged.abstract, merged.comments);
  return merged;
}
