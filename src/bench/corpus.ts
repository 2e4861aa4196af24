/** The synthetic corpus file shared by scenarios, generated once per size and seed. */
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { GENERATOR_VERSION, writeJsonl, type CorpusProfileName } from './generate.js';
import { formatCount } from './measure.js';

/** Where the corpus lives and whether this run had to write it. */
export interface Corpus {
  path: string;
  bytes: number;
  /** Generation time in ms, or null when an existing file was reused. */
  generatedMs: number | null;
}

/**
 * The file name encodes everything the content depends on, so a stale file is
 * never reused. The profile is part of the key as `-p<name>`; the default
 * profile's name has no suffix so corpora generated before profiles existed
 * (the same bytes) are still found.
 */
export function corpusPath(outDir: string, papers: number, seed: number, profile: CorpusProfileName = 'default'): string {
  return join(outDir, 'corpus', `arxiv-synthetic-v${GENERATOR_VERSION}-n${papers}-s${seed}${profileSuffix(profile)}.jsonl`);
}

/** `-p<name>` for cache keys (file and directory names), empty for the default profile. */
export function profileSuffix(profile: CorpusProfileName): string {
  return profile === 'default' ? '' : `-p${profile}`;
}

/**
 * Returns the corpus file, generating it first if needed. It is written under a
 * temporary name and renamed at the end, so an interrupted generation is never
 * mistaken for a complete corpus.
 */
export async function ensureCorpus(
  outDir: string,
  papers: number,
  seed: number,
  log: (message: string) => void,
  profile: CorpusProfileName = 'default',
): Promise<Corpus> {
  const path = corpusPath(outDir, papers, seed, profile);
  if (existsSync(path)) {
    return { path, bytes: (await stat(path)).size, generatedMs: null };
  }
  await mkdir(join(outDir, 'corpus'), { recursive: true });
  const partial = `${path}.partial-${process.pid}`;
  log(`generating ${formatCount(papers)} papers (seed ${seed}, profile ${profile}) into ${path}`);
  try {
    const stats = await writeJsonl(partial, { count: papers, seed, profile }, (n) => {
      if (n % (1 << 18) === 0) log(`  generated ${formatCount(n)} / ${formatCount(papers)}`);
    });
    await rename(partial, path);
    log(`generated in ${(stats.ms / 1000).toFixed(1)} s (${formatCount((stats.records * 1000) / stats.ms)} records/s)`);
    return { path, bytes: stats.bytes, generatedMs: stats.ms };
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
}
