/**
 * Deterministic synthetic arXiv corpus in the Kaggle `arxiv-metadata-oai-snapshot`
 * JSON-lines layout, for import and search benchmarks at a million papers.
 *
 * CLI: node dist/src/bench/generate.js --count N --seed S --out FILE
 */
import { createWriteStream, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { taxonomy } from '../papers/taxonomy.js';
import { AliasTable, Rng, hash32, zipfWeights } from './prng.js';
import {
  AFFILIATIONS,
  AUTHOR_POOL_SIZE,
  TITLE_CONNECTORS,
  buildVocabulary,
  poolAuthor,
  VOCAB_SEED,
  type PoolAuthor,
  type Vocabulary,
} from './vocabulary.js';

/** One version entry of a Kaggle record. */
export interface KaggleVersion {
  version: string;
  created: string;
}

/** A record of the Kaggle arXiv snapshot, keys in the snapshot's order. */
export interface KaggleRecord {
  id: string;
  submitter: string;
  authors: string;
  title: string;
  comments: string | null;
  'journal-ref': string | null;
  doi: string | null;
  'report-no': string | null;
  categories: string;
  license: string | null;
  abstract: string;
  versions: KaggleVersion[];
  update_date: string;
  authors_parsed: string[][];
}

/** The snapshot's keys, in file order. */
export const KAGGLE_KEYS = [
  'id', 'submitter', 'authors', 'title', 'comments', 'journal-ref', 'doi', 'report-no',
  'categories', 'license', 'abstract', 'versions', 'update_date', 'authors_parsed',
] as const;

/**
 * A corpus variant: its word distribution and text lengths. The search latency
 * a benchmark reports depends on both (how many papers a common word matches,
 * how long the posting lists are), so one synthetic corpus is one data point.
 */
export interface CorpusProfile {
  name: CorpusProfileName;
  /** What the profile is for, in the report. */
  description: string;
  /** Seed of the pseudo-word tail and of the order of the real words. */
  vocabSeed: number;
  /** Zipf exponent of word frequencies: lower is flatter (more distinct common words). */
  zipfS: number;
  /** Abstract length in words, inclusive range. */
  abstractWords: readonly [number, number];
  /** Title length in words, inclusive range. */
  titleWords: readonly [number, number];
  /**
   * Share of a paper's content words drawn from its topic's own words rather
   * than the corpus-wide distribution (0: every word independent of the paper,
   * so papers are no closer to their field's than to any other: the worst case
   * for a nearest-neighbour graph). A topic is the primary category and one of
   * its {@link SUBTOPICS} subtopics; subtopics of a category share its core words.
   */
  topicShare: number;
}

/** Profile names, `default` first. */
export const CORPUS_PROFILE_NAMES = ['default', 'wide', 'narrow', 'short', 'long', 'topical'] as const;
export type CorpusProfileName = (typeof CORPUS_PROFILE_NAMES)[number];

/** Zipf exponent of the word distribution (natural language is close to 1). */
export const WORD_ZIPF_S = 1.07;

/**
 * The profiles. `default` is the corpus every other scenario uses (its output
 * must not change); the others vary one thing each way: vocabulary (wide:
 * flatter Zipf and longer abstracts, so common words match even more papers;
 * narrow: steeper Zipf and short abstracts) or length alone (short, long).
 */
export const CORPUS_PROFILES: Readonly<Record<CorpusProfileName, CorpusProfile>> = {
  default: {
    name: 'default',
    description: 'the bench corpus: Zipf 1.07, abstracts 150-250 words, titles 6-15',
    vocabSeed: VOCAB_SEED,
    zipfS: WORD_ZIPF_S,
    abstractWords: [150, 250],
    titleWords: [6, 15],
    topicShare: 0,
  },
  wide: {
    name: 'wide',
    description: 'flatter vocabulary (Zipf 0.95, other words) and long abstracts of 220-280 words, titles 8-18',
    vocabSeed: 0x5eed_0002,
    zipfS: 0.95,
    abstractWords: [220, 280],
    titleWords: [8, 18],
    topicShare: 0,
  },
  narrow: {
    name: 'narrow',
    description: 'steeper vocabulary (Zipf 1.2, other words) and short abstracts of 45-75 words, titles 4-10',
    vocabSeed: 0x5eed_0003,
    zipfS: 1.2,
    abstractWords: [45, 75],
    titleWords: [4, 10],
    topicShare: 0,
  },
  short: {
    name: 'short',
    description: 'default vocabulary, short abstracts of 45-75 words, titles 4-10',
    vocabSeed: VOCAB_SEED,
    zipfS: WORD_ZIPF_S,
    abstractWords: [45, 75],
    titleWords: [4, 10],
    topicShare: 0,
  },
  long: {
    name: 'long',
    description: 'default vocabulary, long abstracts of 220-280 words, titles 8-18',
    vocabSeed: VOCAB_SEED,
    zipfS: WORD_ZIPF_S,
    abstractWords: [220, 280],
    titleWords: [8, 18],
    topicShare: 0,
  },
  topical: {
    name: 'topical',
    description: 'default vocabulary and lengths, half of the content words from the paper\'s topic (category and subtopic), as real fields have their own words',
    vocabSeed: VOCAB_SEED,
    zipfS: WORD_ZIPF_S,
    abstractWords: [150, 250],
    titleWords: [6, 15],
    topicShare: 0.5,
  },
};

/** Subtopics per category in a topical profile. */
export const SUBTOPICS = 8;
/** Words of a category's core and of each subtopic: drawn from the content words below rank TOPIC_WORD_RANKS. */
const CATEGORY_WORDS = 300;
const SUBTOPIC_WORDS = 150;
const TOPIC_WORD_RANKS = 20_000;
/** Share of a topic's words drawn from its category's core rather than its subtopic's own. */
const CORE_SHARE = 0.6;

/** The profile of a name given on the command line, or an error naming the valid ones. */
export function parseProfile(name: string): CorpusProfile {
  const found = CORPUS_PROFILE_NAMES.find((p) => p === name);
  if (found === undefined) throw new RangeError(`unknown corpus profile "${name}" (one of ${CORPUS_PROFILE_NAMES.join(', ')})`);
  return CORPUS_PROFILES[found];
}

/** What to generate. */
export interface GenerateOptions {
  count: number;
  seed: number;
  /** Corpus variant; `default` when absent. */
  profile?: CorpusProfileName;
}

/**
 * Bumped whenever the output for a given count and seed changes, so cached
 * corpora (keyed by it in their file names) are regenerated.
 */
export const GENERATOR_VERSION = 1;

/** Largest corpus the id scheme can number (5-digit ids, at most 99,999 per month). */
export const MAX_COUNT = 10_000_000;

const DAY_MS = 86_400_000;
const YEAR_MS = 365.2425 * DAY_MS;
/** New-style ids start in April 2007 (0704.0001). */
const START_MS = Date.UTC(2007, 3, 1);
const END_MS = Date.UTC(2026, 9, 31, 23, 59, 59);
/** arXiv submissions grow about 9% a year; later months get more papers. */
const GROWTH = 0.087;
/** Ids switched from 4 to 5 digits in January 2015. */
const FIVE_DIGIT_FROM_MS = Date.UTC(2015, 0, 1);

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Relative popularity of categories as primary; unlisted active categories weigh 1. */
const CATEGORY_WEIGHTS: Record<string, number> = {
  'cs.LG': 40, 'cs.CV': 32, 'cs.CL': 24, 'hep-th': 18, 'hep-ph': 18, 'quant-ph': 20, 'cs.AI': 14,
  'astro-ph.GA': 10, 'astro-ph.CO': 10, 'astro-ph.SR': 8, 'astro-ph.HE': 8, 'astro-ph.EP': 4,
  'cond-mat.mtrl-sci': 11, 'cond-mat.mes-hall': 10, 'cond-mat.str-el': 8, 'cond-mat.stat-mech': 7,
  'cond-mat.soft': 5, 'cond-mat.quant-gas': 4, 'cond-mat.supr-con': 5, 'gr-qc': 10, 'math.AP': 8,
  'math.CO': 8, 'math.PR': 7, 'math.OC': 7, 'math.AG': 6, 'math.NT': 5, 'math.DG': 5, 'math.NA': 5,
  'math-ph': 6, 'math.ST': 4, 'stat.ML': 9, 'stat.ME': 6, 'cs.RO': 8, 'cs.CR': 6, 'cs.IT': 7,
  'eess.SP': 6, 'eess.IV': 5, 'eess.SY': 5, 'eess.AS': 3, 'physics.optics': 7, 'physics.flu-dyn': 5,
  'physics.app-ph': 4, 'cs.DS': 5, 'cs.NI': 4, 'cs.SE': 4, 'cs.HC': 4, 'cs.IR': 4, 'cs.DC': 4,
  'cs.SD': 2, 'cs.NE': 3, 'nucl-th': 5, 'hep-ex': 5, 'hep-lat': 3, 'q-bio.NC': 3, 'econ.EM': 2,
};

interface CategoryPicker {
  all: string[];
  global: AliasTable;
  /** Same-group candidates, so cross-lists look like real ones (cs.LG with stat.ML, not with nucl-th). */
  byGroup: Map<string, { ids: string[]; table: AliasTable }>;
  groupOf: Map<string, string>;
  /** Canonical -> alias arXiv adds alongside it (math-ph -> math.MP). */
  aliasOf: Map<string, string>;
}

let cachedCategories: CategoryPicker | undefined;

function categoryPicker(): CategoryPicker {
  if (cachedCategories) return cachedCategories;
  const aliasIds = new Set(Object.keys(taxonomy.aliases));
  const archiveGroup = new Map(taxonomy.archives.map((a) => [a.id, a.group]));
  const all = taxonomy.categories.filter((c) => c.active && !aliasIds.has(c.id));
  const groupOf = new Map(all.map((c) => [c.id, archiveGroup.get(c.archive) ?? c.archive]));
  const weightOf = (id: string): number => CATEGORY_WEIGHTS[id] ?? 1;
  const byGroup = new Map<string, { ids: string[]; table: AliasTable }>();
  for (const group of new Set(groupOf.values())) {
    const ids = all.filter((c) => groupOf.get(c.id) === group).map((c) => c.id);
    byGroup.set(group, { ids, table: new AliasTable(ids.map(weightOf)) });
  }
  const aliasOf = new Map(Object.entries(taxonomy.aliases).map(([alias, canonical]) => [canonical, alias]));
  cachedCategories = {
    all: all.map((c) => c.id),
    global: new AliasTable(all.map((c) => weightOf(c.id))),
    byGroup,
    groupOf,
    aliasOf,
  };
  return cachedCategories;
}

const MATH_SNIPPETS = [
  '$\\alpha$', '$O(n^2)$', '$O(n\\log{n})$', '$\\mathbb{R}^d$', '$k$', '$\\epsilon$', '$\\lambda=1/2$',
  '$N=4$', '$\\sqrt{s}=13$', '$p$-adic', '$L^2$', '$\\mathcal{O}(1/\\sqrt{T})$', '$10^{-3}$', '$T_c$',
  '$\\ell_1$', '$SU(N)$', '$d\\geq3$', '$\\Lambda$CDM', '$\\beta$-decay', '$\\chi^2$',
];
const OPENERS = [
  ['We'], ['In', 'this', 'paper,', 'we'], ['In', 'this', 'work,', 'we'], ['This', 'paper'], ['We', 'propose'],
  ['We', 'study'], ['We', 'present'], ['Recent'],
];
const CODE_SENTENCES = [
  ['Code', 'is', 'available', 'at'], ['Our', 'code', 'is', 'publicly', 'available', 'at'],
  ['The', 'source', 'code', 'and', 'data', 'are', 'released', 'at'], ['Code:'],
  ['Project', 'page:'],
];
const LICENSES_MODERN: [string | null, number][] = [
  [null, 10], ['http://arxiv.org/licenses/nonexclusive-distrib/1.0/', 65],
  ['http://creativecommons.org/licenses/by/4.0/', 15], ['http://creativecommons.org/licenses/by-nc-nd/4.0/', 4],
  ['http://creativecommons.org/licenses/by-sa/4.0/', 2], ['http://creativecommons.org/licenses/by-nc-sa/4.0/', 2],
  ['http://creativecommons.org/publicdomain/zero/1.0/', 2],
];
const LICENSES_EARLY: [string | null, number][] = [
  [null, 85], ['http://arxiv.org/licenses/nonexclusive-distrib/1.0/', 15],
];
const VENUES = ['NeurIPS', 'ICML', 'ICLR', 'CVPR', 'ACL', 'EMNLP', 'AAAI', 'IJCAI', 'STOC', 'SODA', 'ICRA'];
const JOURNALS_FOR_COMMENTS = [
  'Phys. Rev. D', 'Phys. Rev. Lett.', 'JHEP', 'Astrophys. J.', 'MNRAS', 'Nature Communications',
  'IEEE Transactions on Signal Processing', 'J. Algebra', 'Annals of Statistics', 'Physical Review B',
];
const AUTHOR_COUNT_WEIGHTS = Array.from(zipfWeights(12, WORD_ZIPF_S));
const VERSION_COUNT_WEIGHTS = [62, 24, 9, 3.5, 1.5];

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** `Mon, 2 Apr 2007 19:18:42 GMT`: arXiv's version date, day not zero-padded. */
export function arxivDate(ms: number): string {
  const d = new Date(ms);
  return `${WEEKDAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)} GMT`;
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * Greedy word wrap as arXiv stores header fields: the first line shares the
 * 79 columns with the field name, later lines are indented by two spaces.
 */
function wrapField(text: string, firstWidth: number): string {
  if (text.length <= firstWidth) return text;
  let out = '';
  let line = '';
  let width = firstWidth;
  for (const word of text.split(' ')) {
    if (line.length > 0 && line.length + 1 + word.length > width) {
      out += `${line}\n`;
      line = `  ${word}`;
      width = 79;
    } else {
      line = line.length > 0 ? `${line} ${word}` : word;
    }
  }
  return out + line;
}

/** arXiv abstract layout: each paragraph starts with two spaces, lines up to 79 columns, trailing newline. */
function wrapAbstract(paragraphs: string[][]): string {
  // Joining arrays yields flat strings; `+=` per word builds rope strings that
  // JSON.stringify must flatten again, which showed up as a third of the cost.
  const lines: string[] = [];
  for (const words of paragraphs) {
    // [' '] joined with the first word gives the two-space paragraph indent.
    let lineWords: string[] = [' '];
    let length = 1;
    for (const word of words) {
      if (length > 2 && length + 1 + word.length > 79) {
        lines.push(lineWords.join(' '));
        lineWords = [word];
        length = word.length;
      } else {
        lineWords.push(word);
        length += 1 + word.length;
      }
    }
    lines.push(lineWords.join(' '));
  }
  return `${lines.join('\n')}\n`;
}

function capitalize(w: string): string {
  return w.charAt(0).toUpperCase() + w.slice(1);
}

interface SamplingTables {
  words: AliasTable;
  contentWords: AliasTable;
  authorPool: AliasTable;
}

const cachedTables = new Map<CorpusProfileName, SamplingTables>();

/** Seed-independent tables, built once per profile: a 200k-entry alias table costs tens of ms. */
function samplingTables(profile: CorpusProfile): SamplingTables {
  const cached = cachedTables.get(profile.name);
  if (cached) return cached;
  const vocab = buildVocabulary(profile.vocabSeed);
  const weights = zipfWeights(vocab.words.length, profile.zipfS);
  const tables = {
    words: new AliasTable(weights),
    contentWords: new AliasTable(weights.subarray(vocab.stopCount)),
    // Flatter than words: prolific authors exist, but nobody signs a tenth of arXiv.
    authorPool: new AliasTable(zipfWeights(AUTHOR_POOL_SIZE, 0.5)),
  };
  cachedTables.set(profile.name, tables);
  return tables;
}

/** What a paper of a topical profile is about. */
interface Topic {
  category: string;
  subtopic: number;
}

/** Makes a generator of records `0..count-1`; record i depends on the seed and count only. */
export class PaperGenerator {
  private readonly rng: Rng;
  private readonly profile: CorpusProfile;
  private readonly vocab: Vocabulary;
  private readonly words: AliasTable;
  private readonly contentWords: AliasTable;
  private readonly authorPool: AliasTable;
  private readonly fiveDigitIdsThroughout: boolean;
  private readonly growthNorm: number;
  /** Topic word lists of a topical profile, built on first use: category core and subtopic words. */
  private readonly topicWordLists = new Map<string, { words: readonly string[]; table: AliasTable }>();
  private index = 0;
  private month = '';
  private monthSeq = 0;

  constructor(private readonly opts: GenerateOptions) {
    if (!Number.isInteger(opts.count) || opts.count < 1 || opts.count > MAX_COUNT) {
      throw new RangeError(`count must be an integer in 1..${MAX_COUNT}`);
    }
    this.rng = new Rng(hash32(opts.seed, 0x9a9e));
    this.profile = CORPUS_PROFILES[opts.profile ?? 'default'];
    this.vocab = buildVocabulary(this.profile.vocabSeed);
    const t = samplingTables(this.profile);
    this.words = t.words;
    this.contentWords = t.contentWords;
    this.authorPool = t.authorPool;
    const spanYears = (END_MS - START_MS) / YEAR_MS;
    this.growthNorm = Math.exp(GROWTH * spanYears) - 1;
    // Four-digit months hold 9,999 papers; past that share (a corpus of several
    // million) every id gets five digits rather than overflowing.
    const dec2014 = this.fractionAt(Date.UTC(2014, 11, 1));
    const jan2015 = this.fractionAt(FIVE_DIGIT_FROM_MS);
    this.fiveDigitIdsThroughout = opts.count * (jan2015 - dec2014) * 1.05 + 2 > 9999;
  }

  /** Share of the corpus submitted before `ms` under exponential growth. */
  private fractionAt(ms: number): number {
    const years = (ms - START_MS) / YEAR_MS;
    return (Math.exp(GROWTH * years) - 1) / this.growthNorm;
  }

  private timeAtFraction(f: number): number {
    return START_MS + (Math.log(1 + f * this.growthNorm) / GROWTH) * YEAR_MS;
  }

  /** True while records remain. */
  get done(): boolean {
    return this.index >= this.opts.count;
  }

  /** The next record. */
  next(): KaggleRecord {
    if (this.done) throw new RangeError('generator exhausted');
    const rng = this.rng;
    const i = this.index++;
    // Jitter inside the record's own slot keeps dates strictly ordered by index.
    const submitted = Math.floor(this.timeAtFraction((i + rng.next()) / this.opts.count) / 1000) * 1000;
    const id = this.nextId(submitted);
    const year = new Date(submitted).getUTCFullYear();

    const categories = this.pickCategories();
    const authors = this.pickAuthors();
    const hasMath = rng.chance(0.03);
    const github = rng.chance(0.05) ? this.githubUrl() : null;
    const githubInAbstract = github !== null && rng.chance(0.6);
    // Only topical profiles draw a subtopic, so the other profiles' output stays the same.
    const topic: Topic | null = this.profile.topicShare > 0 ? { category: categories[0] as string, subtopic: rng.int(SUBTOPICS) } : null;
    const title = this.makeTitle(hasMath && rng.chance(0.3), topic);
    const abstract = this.makeAbstract(hasMath, githubInAbstract ? github : null, topic);

    let journalRef: string | null = null;
    let doi: string | null = null;
    const pubRoll = rng.next();
    if (pubRoll < 0.12) {
      const pub = this.publication(categories[0] as string, year);
      journalRef = pub.journalRef;
      if (pubRoll < 0.1) doi = pub.doi;
    }
    const comments = this.makeComments(github !== null && !githubInAbstract ? github : null, year);
    const reportNo = rng.chance(0.03) ? this.reportNo(year) : null;
    const license = licenseFor(year, rng);

    const versions = this.makeVersions(submitted);
    const lastVersionMs = versions.lastMs;
    const updated = rng.chance(0.15) ? Math.min(END_MS, lastVersionMs + rng.exponential(200) * DAY_MS) : lastVersionMs;

    const submitterAuthor = rng.chance(0.7) ? authors.list[0] : rng.pick(authors.list);
    return {
      id,
      submitter: (submitterAuthor as PoolAuthor).fullName,
      authors: wrapField(authors.text, 70),
      title: wrapField(title, 72),
      comments: comments === null ? null : wrapField(comments, 69),
      'journal-ref': journalRef,
      doi,
      'report-no': reportNo,
      categories: categories.join(' '),
      license,
      abstract,
      versions: versions.list,
      update_date: isoDay(updated),
      authors_parsed: authors.parsed,
    };
  }

  private nextId(ms: number): string {
    const d = new Date(ms);
    const yymm = pad(d.getUTCFullYear() % 100, 2) + pad(d.getUTCMonth() + 1, 2);
    if (yymm !== this.month) {
      this.month = yymm;
      this.monthSeq = 0;
    }
    this.monthSeq++;
    const width = this.fiveDigitIdsThroughout || ms >= FIVE_DIGIT_FROM_MS ? 5 : 4;
    if (this.monthSeq >= 10 ** width) throw new RangeError(`more than ${10 ** width - 1} papers in ${yymm}`);
    return `${yymm}.${pad(this.monthSeq, width)}`;
  }

  private pickCategories(): string[] {
    const rng = this.rng;
    const picker = categoryPicker();
    const n = 1 + rng.weighted([45, 30, 17, 8]);
    const primary = picker.all[picker.global.sample(rng)] as string;
    const out = [primary];
    const group = picker.byGroup.get(picker.groupOf.get(primary) ?? '');
    for (let attempts = 0; out.length < n && attempts < 20; attempts++) {
      let cat: string;
      if (group && rng.chance(0.7)) cat = group.ids[group.table.sample(rng)] as string;
      else cat = picker.all[picker.global.sample(rng)] as string;
      if (!out.includes(cat)) out.push(cat);
    }
    // arXiv lists the alias next to its canonical twin (math-ph math.MP).
    const withAliases: string[] = [];
    for (const c of out) {
      withAliases.push(c);
      const alias = picker.aliasOf.get(c);
      if (alias !== undefined && withAliases.length < 4 && !out.includes(alias)) withAliases.push(alias);
    }
    return withAliases.slice(0, 4);
  }

  private pickAuthors(): { list: PoolAuthor[]; text: string; parsed: string[][] } {
    const rng = this.rng;
    const n = 1 + rng.weighted(AUTHOR_COUNT_WEIGHTS);
    const seen = new Set<number>();
    const list: PoolAuthor[] = [];
    const affiliated = rng.chance(0.02);
    const names: string[] = [];
    const parsed: string[][] = [];
    while (list.length < n) {
      const idx = this.authorPool.sample(rng);
      if (seen.has(idx)) continue;
      seen.add(idx);
      const a = poolAuthor(idx);
      list.push(a);
      let name = `${a.forenames} ${a.keyname}`;
      if (a.suffix) name += ` ${a.suffix}`;
      const row = [a.parsedKeyname, a.parsedForenames, a.suffix];
      if (affiliated && rng.chance(0.7)) {
        const aff = rng.pick(AFFILIATIONS);
        name += ` (${aff})`;
        row.push(aff);
      }
      names.push(name);
      parsed.push(row);
    }
    let text: string;
    if (names.length === 1) text = names[0] as string;
    else if (rng.chance(0.85)) text = `${names.slice(0, -1).join(', ')} and ${names[names.length - 1] as string}`;
    else text = names.join(', ');
    return { list, text, parsed };
  }

  private contentWord(): string {
    return this.vocab.words[this.vocab.stopCount + this.contentWords.sample(this.rng)] as string;
  }

  /**
   * One of a topic's words: from its category's core or its subtopic's own,
   * each list a fixed random choice of content words (seeded by the vocabulary
   * seed and the topic) with Zipf weights of its own.
   */
  private topicWord(topic: Topic): string {
    const core = this.rng.chance(CORE_SHARE);
    const key = core ? topic.category : `${topic.category}#${topic.subtopic}`;
    let list = this.topicWordLists.get(key);
    if (list === undefined) {
      const pick = new Rng(hash32(this.profile.vocabSeed, ...[...key].map((c) => c.codePointAt(0) ?? 0)));
      const ranks = Math.min(TOPIC_WORD_RANKS, this.vocab.words.length - this.vocab.stopCount);
      const size = Math.min(core ? CATEGORY_WORDS : SUBTOPIC_WORDS, ranks);
      const chosen = new Set<number>();
      while (chosen.size < size) chosen.add(this.vocab.stopCount + pick.int(ranks));
      const words = [...chosen].map((r) => this.vocab.words[r] as string);
      list = { words, table: new AliasTable(zipfWeights(words.length, 1)) };
      this.topicWordLists.set(key, list);
    }
    return list.words[list.table.sample(this.rng)] as string;
  }

  /** A content word: the topic's with the profile's share, else from the whole vocabulary. */
  private contentWordOf(topic: Topic | null): string {
    return topic !== null && this.rng.chance(this.profile.topicShare) ? this.topicWord(topic) : this.contentWord();
  }

  private makeTitle(withMath: boolean, topic: Topic | null): string {
    const rng = this.rng;
    const n = rng.range(this.profile.titleWords[0], this.profile.titleWords[1]);
    const titleCase = rng.chance(0.5);
    const colonAt = rng.chance(0.12) ? rng.range(1, Math.max(1, n - 4)) : -1;
    const words: string[] = [];
    let previousConnector = false;
    for (let k = 0; k < n; k++) {
      const connector: boolean = !previousConnector && k > 0 && k < n - 1 && k !== colonAt + 1 && rng.chance(0.2);
      previousConnector = connector;
      let w = connector ? rng.pick(TITLE_CONNECTORS) : this.contentWordOf(topic);
      if (k === 0 || (titleCase && !connector) || k === colonAt + 1) w = capitalize(w);
      if (k === colonAt) w += ':';
      words.push(w);
    }
    if (withMath) words[rng.range(1, n - 1)] = rng.pick(MATH_SNIPPETS);
    return words.join(' ');
  }

  private makeAbstract(withMath: boolean, githubUrl: string | null, topic: Topic | null): string {
    const rng = this.rng;
    const total = rng.range(this.profile.abstractWords[0], this.profile.abstractWords[1]);
    const code = githubUrl === null ? null : [...rng.pick(CODE_SENTENCES), `${githubUrl}${rng.chance(0.5) ? '.' : ''}`];
    const body = total - (code?.length ?? 0);
    const tokens: string[] = [];
    const sentenceEnds: number[] = [];
    let sentenceLeft = 0;
    if (rng.chance(0.4)) {
      const opener = rng.pick(OPENERS);
      for (const w of opener) tokens.push(w);
      sentenceLeft = rng.range(6, 24);
    }
    let previous = -1;
    while (tokens.length < body) {
      let r = this.words.sample(rng);
      // iid draws stutter ("of of"); one redraw makes prose-like text without changing the frequencies much.
      if (r === previous) r = this.words.sample(rng);
      previous = r;
      // Function words stay; a content word is the topic's with the profile's share.
      const word = topic !== null && r >= this.vocab.stopCount && rng.chance(this.profile.topicShare) ? this.topicWord(topic) : (this.vocab.words[r] as string);
      if (sentenceLeft === 0) {
        sentenceLeft = rng.range(8, 28);
        tokens.push(capitalize(word));
      } else {
        tokens.push(word);
      }
      sentenceLeft--;
      if (sentenceLeft === 0 || tokens.length === body) {
        tokens[tokens.length - 1] += '.';
        sentenceEnds.push(tokens.length);
        sentenceLeft = 0;
      } else if (rng.chance(0.07)) {
        tokens[tokens.length - 1] += ',';
      }
    }
    if (withMath) {
      const k = rng.range(1, 3);
      for (let m = 0; m < k; m++) {
        const pos = rng.range(1, tokens.length - 1);
        const old = tokens[pos] as string;
        const punct = /[.,]$/.test(old) ? old.slice(-1) : '';
        tokens[pos] = rng.pick(MATH_SNIPPETS) + punct;
      }
    }
    if (code) for (const w of code) tokens.push(w);
    // About one abstract in twenty has two paragraphs, split at a sentence end.
    const splitCandidates = sentenceEnds.filter((e) => e > 40 && e < body - 30);
    if (splitCandidates.length > 0 && rng.chance(0.05)) {
      const at = rng.pick(splitCandidates);
      return wrapAbstract([tokens.slice(0, at), tokens.slice(at)]);
    }
    return wrapAbstract([tokens]);
  }

  private githubUrl(): string {
    const rng = this.rng;
    const user = this.contentWord().replace(/[^a-z0-9-]/g, '') + (rng.chance(0.3) ? String(rng.int(100)) : '');
    const parts = [this.contentWord()];
    if (rng.chance(0.6)) parts.push(this.contentWord());
    let repo = parts.join('-').replace(/[^a-z0-9-]/g, '');
    if (rng.chance(0.3)) repo = parts.map(capitalize).join('');
    return `https://github.com/${user}/${repo}`;
  }

  private makeComments(githubUrl: string | null, year: number): string | null {
    const rng = this.rng;
    if (githubUrl === null && rng.chance(0.28)) return null;
    const parts: string[] = [];
    const pages = rng.range(4, 60);
    const figures = rng.int(20);
    const style = rng.next();
    if (style < 0.15) parts.push(`${pages} pages`);
    else if (style < 0.85) parts.push(`${pages} pages, ${figures === 1 ? '1 figure' : `${figures} figures`}`);
    else parts.push(`${pages} pages, ${figures} figures, ${rng.range(1, 6)} tables`);
    const extra = rng.next();
    if (extra < 0.1) parts.push(`accepted for publication in ${rng.pick(JOURNALS_FOR_COMMENTS)}`);
    else if (extra < 0.18) parts.push(`to appear in ${rng.pick(VENUES)} ${Math.min(year + 1, 2026)}`);
    else if (extra < 0.24) parts.push('v2: typos corrected, references added');
    else if (extra < 0.28) parts.push('published version');
    if (githubUrl !== null) parts.push(`code available at ${githubUrl}`);
    return parts.join('; ');
  }

  private publication(primary: string, submittedYear: number): { journalRef: string; doi: string } {
    const rng = this.rng;
    const year = Math.min(submittedYear + rng.int(2), 2026);
    const yy = pad(year % 100, 2);
    const vol = rng.range(20, 999);
    const page = rng.range(1, 9999);
    const art = pad(rng.int(1_000_000), 6);
    const month = pad(rng.range(1, 12), 2);
    const group = categoryPicker().groupOf.get(primary) ?? '';
    const templates: (() => { journalRef: string; doi: string })[] =
      group === 'grp_cs' || group === 'grp_eess' || group === 'grp_stat'
        ? [
            () => ({ journalRef: `IEEE Transactions on Pattern Analysis and Machine Intelligence, vol. ${rng.range(20, 48)}, no. ${rng.range(1, 12)}, pp. ${page}-${page + rng.range(8, 20)}, ${year}`, doi: `10.1109/TPAMI.${year}.${rng.range(1_000_000, 9_999_999)}` }),
            () => ({ journalRef: `Neural Networks ${vol} (${year}) ${page}-${page + rng.range(8, 20)}`, doi: `10.1016/j.neunet.${year}.${month}.${pad(rng.int(1000), 3)}` }),
            () => ({ journalRef: `Proceedings of the ACM on Programming Languages ${rng.range(1, 9)} (${year})`, doi: `10.1145/${rng.range(3_000_000, 3_700_000)}.${rng.range(3_000_000, 3_700_000)}` }),
            () => ({ journalRef: `Machine Learning ${vol}, ${page}-${page + 30} (${year})`, doi: `10.1007/s10994-0${yy}-${pad(rng.int(10000), 5)}-${rng.int(10)}` }),
          ]
        : group === 'grp_math'
          ? [
              () => ({ journalRef: `J. Algebra ${vol} (${year}) ${page}-${page + rng.range(10, 40)}`, doi: `10.1016/j.jalgebra.${year}.${month}.${pad(rng.int(1000), 3)}` }),
              () => ({ journalRef: `Math. Ann. ${vol} (${year}), no. ${rng.range(1, 4)}, ${page}--${page + rng.range(10, 40)}`, doi: `10.1007/s00208-0${yy}-${pad(rng.int(10000), 4)}-${rng.int(10)}` }),
              () => ({ journalRef: `Adv. Math. ${vol} (${year}) ${art}`, doi: `10.1016/j.aim.${year}.${art}` }),
            ]
          : [
              () => ({ journalRef: `Phys.Rev.D${vol % 120}:${art},${year}`, doi: `10.1103/PhysRevD.${vol % 120}.${art}` }),
              () => ({ journalRef: `Phys. Rev. Lett. ${vol % 140}, ${art} (${year})`, doi: `10.1103/PhysRevLett.${vol % 140}.${art}` }),
              () => ({ journalRef: `JHEP ${month} (${year}) ${pad(rng.int(300), 3)}`, doi: `10.1007/JHEP${month}(${year})${pad(rng.int(300), 3)}` }),
              () => ({ journalRef: `Astrophys.J.${vol}:${page}-${page + rng.range(5, 30)},${year}`, doi: `10.3847/1538-4357/${vol}/${rng.range(1, 2)}/${page}` }),
              () => ({ journalRef: `Nature Commun. ${rng.range(1, 16)}, ${rng.range(1000, 9999)} (${year})`, doi: `10.1038/s41467-0${yy}-${pad(rng.int(100000), 5)}-${rng.int(10)}` }),
            ];
    return rng.pick(templates)();
  }

  private reportNo(year: number): string {
    const rng = this.rng;
    const yy = pad(year % 100, 2);
    const forms = [
      () => `CERN-TH-${year}-${pad(rng.int(300), 3)}`,
      () => `SLAC-PUB-${rng.range(12000, 17999)}`,
      () => `KEK-TH-${rng.range(1000, 2599)}`,
      () => `MIT-CTP/${rng.range(3800, 5800)}`,
      () => `FERMILAB-PUB-${yy}-${pad(rng.int(900), 3)}-T`,
      () => `DESY ${yy}-${pad(rng.int(250), 3)}`,
      () => `IPMU${yy}-${pad(rng.int(200), 4)}`,
      () => `LA-UR-${yy}-${rng.range(20000, 29999)}`,
    ];
    return rng.pick(forms)();
  }

  private makeVersions(submitted: number): { list: KaggleVersion[]; lastMs: number } {
    const rng = this.rng;
    const n = 1 + rng.weighted(VERSION_COUNT_WEIGHTS);
    const list: KaggleVersion[] = [{ version: 'v1', created: arxivDate(submitted) }];
    let t = submitted;
    for (let v = 2; v <= n; v++) {
      const next = t + Math.max(3600_000, Math.floor(rng.exponential(75) * DAY_MS / 1000) * 1000);
      if (next > END_MS) break;
      t = next;
      list.push({ version: `v${v}`, created: arxivDate(t) });
    }
    return { list, lastMs: t };
  }
}

function licenseFor(year: number, rng: Rng): string | null {
  const table = year < 2016 ? LICENSES_EARLY : LICENSES_MODERN;
  return (table[rng.weighted(table.map((e) => e[1]))] as [string | null, number])[0];
}

/** Yields the records of a corpus in id order. */
export function* generateRecords(opts: GenerateOptions): Generator<KaggleRecord> {
  const gen = new PaperGenerator(opts);
  while (!gen.done) yield gen.next();
}

// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * One JSON line, ASCII-only like the Kaggle dump (Python's json.dumps escapes
 * non-ASCII as \uXXXX), so importers meet the escapes they will meet for real.
 */
export function toJsonLine(rec: KaggleRecord): string {
  const json = JSON.stringify(rec);
  if (!NON_ASCII.test(json)) return `${json}\n`;
  // A slice-and-join pass: String#replace with a callback was 20x slower here.
  const parts: string[] = [];
  let from = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c > 0x7f) {
      parts.push(json.slice(from, i), `\\u${c.toString(16).padStart(4, '0')}`);
      from = i + 1;
    }
  }
  parts.push(json.slice(from), '\n');
  return parts.join('');
}

/** Yields the corpus as JSON lines, each ending in a newline. */
export function* generateLines(opts: GenerateOptions): Generator<string> {
  for (const rec of generateRecords(opts)) yield toJsonLine(rec);
}

/** Outcome of writing a corpus. */
export interface WriteStats {
  records: number;
  bytes: number;
  ms: number;
}

const RECORDS_PER_CHUNK = 256;

/**
 * Writes the corpus to a file (or stdout for `-`) in ~500 kB chunks, waiting
 * for 'drain' whenever the stream's buffer is full, so memory stays flat
 * however large the corpus.
 */
export async function writeJsonl(
  path: string,
  opts: GenerateOptions,
  onProgress?: (records: number) => void,
): Promise<WriteStats> {
  const started = performance.now();
  const sink = path === '-' ? process.stdout : createWriteStream(path, { highWaterMark: 1 << 20 });
  let failure: Error | undefined;
  sink.on('error', (err: Error) => {
    failure = err;
  });
  let bytes = 0;
  let records = 0;
  let chunk: string[] = [];
  const flush = async (): Promise<void> => {
    const text = chunk.join('');
    chunk = [];
    // Lines are ASCII-only, so string length is the byte count.
    bytes += text.length;
    if (!sink.write(text)) await waitForDrain(sink, () => failure);
    if (failure) throw failure;
  };
  for (const line of generateLines(opts)) {
    chunk.push(line);
    records++;
    if (chunk.length === RECORDS_PER_CHUNK) {
      await flush();
      if (onProgress && records % 65_536 === 0) onProgress(records);
    }
  }
  if (chunk.length > 0) await flush();
  if (sink !== process.stdout) {
    await new Promise<void>((resolve, reject) => {
      sink.end((err?: Error | null) => (err ? reject(err) : resolve()));
    });
  }
  if (failure) throw failure;
  return { records, bytes, ms: performance.now() - started };
}

function waitForDrain(stream: NodeJS.WritableStream, failed: () => Error | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      stream.off('error', onError);
      resolve();
    };
    const onError = (err: Error): void => {
      stream.off('drain', onDrain);
      reject(err);
    };
    if (failed()) {
      reject(failed());
      return;
    }
    stream.once('drain', onDrain);
    stream.once('error', onError);
  });
}

// --- queries -----------------------------------------------------------------

/** Share of query words per frequency band: mostly mid-frequency, some rare, some very common. */
const QUERY_BANDS = [
  { from: 0, to: 150, share: 0.15 },
  { from: 150, to: 5000, share: 0.65 },
  { from: 5000, to: Number.POSITIVE_INFINITY, share: 0.2 },
] as const;

/**
 * Keyword queries of 1-5 words drawn from the corpus vocabulary (function words
 * excluded), weighted by corpus frequency within each band.
 */
export function generateQueries(n: number, seed: number): string[] {
  const vocab = buildVocabulary();
  const content = vocab.words.slice(vocab.stopCount);
  const weights = zipfWeights(vocab.words.length, WORD_ZIPF_S).subarray(vocab.stopCount);
  const bands = QUERY_BANDS.map((b) => {
    const to = Math.min(b.to, content.length);
    return { from: b.from, table: new AliasTable(weights.subarray(b.from, to)) };
  });
  const rng = new Rng(hash32(seed, 0x9e41));
  const queries: string[] = [];
  for (let q = 0; q < n; q++) {
    const len = 1 + rng.weighted([25, 35, 22, 12, 6]);
    const words: string[] = [];
    while (words.length < len) {
      const band = bands[rng.weighted(QUERY_BANDS.map((b) => b.share))] as (typeof bands)[number];
      const w = content[band.from + band.table.sample(rng)] as string;
      if (!words.includes(w)) words.push(w);
    }
    queries.push(words.join(' '));
  }
  return queries;
}

/** Query mixes the search benchmarks know: the bench's banded 1-5-word queries, or 1-3 words by document frequency. */
export const QUERY_MIXES = ['bench', 'df'] as const;
export type QueryMix = (typeof QUERY_MIXES)[number];

/** Words per query of the `df` mix: 1, 2 or 3 (what people type into a search box). */
const DF_QUERY_LENGTH_WEIGHTS = [35, 40, 25];

/**
 * Share of the profile's papers that contain each content word (title or
 * abstract), from the same Zipf law the generator draws from: a word of token
 * probability p is missing from a text of L words with probability (1 - p)^L.
 * Index 0 is the most frequent content word (function words excluded).
 */
export function contentDocumentFrequencies(profile: CorpusProfile): Float64Array {
  const vocab = buildVocabulary(profile.vocabSeed);
  const weights = zipfWeights(vocab.words.length, profile.zipfS);
  let all = 0;
  for (const w of weights) all += w;
  let content = 0;
  for (let r = vocab.stopCount; r < weights.length; r++) content += weights[r] as number;
  const abstractLen = (profile.abstractWords[0] + profile.abstractWords[1]) / 2;
  // Titles draw content words only, about 80% of their words (the rest are connectors).
  const titleLen = 0.8 * ((profile.titleWords[0] + profile.titleWords[1]) / 2);
  const df = new Float64Array(weights.length - vocab.stopCount);
  for (let i = 0; i < df.length; i++) {
    const w = weights[vocab.stopCount + i] as number;
    df[i] = 1 - Math.pow(1 - w / all, abstractLen) * Math.pow(1 - w / content, titleLen);
  }
  return df;
}

/**
 * An independent query mix: `n` queries of 1-3 distinct content words, each word
 * drawn with probability proportional to the share of papers containing it.
 * Unlike `generateQueries` (bands that keep very common words to 15%), this
 * follows the corpus itself, so its head words ("model", "results") turn up as
 * often as they would if users picked words from the papers they read; that is
 * what an independent corpus and query set exercised. The stream is separate
 * from `generateQueries`' (another seed salt), so the two mixes share no order.
 */
export function generateDfQueries(n: number, seed: number, profileName: CorpusProfileName = 'default'): string[] {
  const profile = CORPUS_PROFILES[profileName];
  const vocab = buildVocabulary(profile.vocabSeed);
  const content = vocab.words.slice(vocab.stopCount);
  const table = new AliasTable(contentDocumentFrequencies(profile));
  const rng = new Rng(hash32(seed, 0xdf51));
  const queries: string[] = [];
  for (let q = 0; q < n; q++) {
    const len = 1 + rng.weighted(DF_QUERY_LENGTH_WEIGHTS);
    const words: string[] = [];
    while (words.length < len) {
      const w = content[table.sample(rng)] as string;
      if (!words.includes(w)) words.push(w);
    }
    queries.push(words.join(' '));
  }
  return queries;
}

/** The queries of a mix for a profile: `bench` is the bench's own (default vocabulary). */
export function generateQueryMix(mix: QueryMix, n: number, seed: number, profile: CorpusProfileName): string[] {
  return mix === 'bench' ? generateQueries(n, seed) : generateDfQueries(n, seed, profile);
}

// --- CLI ---------------------------------------------------------------------

const USAGE = `Usage: node dist/src/bench/generate.js --count N --seed S [--profile P] --out FILE

Writes N synthetic arXiv papers as Kaggle arxiv-metadata-oai-snapshot JSON lines.
The same count and seed always give byte-identical output.

  --count N   number of papers, 1..${MAX_COUNT.toLocaleString('en-US')} (underscores allowed: 1_000_000)
  --seed S    integer seed, 0..4294967295
  --profile P corpus variant: ${CORPUS_PROFILE_NAMES.join(', ')} (default: default)
  --out FILE  output path, or - for stdout
  --help      show this help
`;

function parseCount(raw: string | undefined, name: string, max: number): number {
  if (raw === undefined) throw new Error(`missing --${name}`);
  const cleaned = raw.replace(/_/g, '');
  if (!/^\d+$/.test(cleaned)) throw new Error(`--${name} must be a non-negative integer, got "${raw}"`);
  const n = Number(cleaned);
  if (!Number.isSafeInteger(n) || n > max) throw new Error(`--${name} must be at most ${max}, got "${raw}"`);
  return n;
}

async function cli(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        count: { type: 'string' },
        seed: { type: 'string' },
        profile: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`generate: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  let count: number;
  let seed: number;
  let profile: CorpusProfile;
  try {
    profile = parseProfile(values.profile ?? 'default');
    count = parseCount(values.count, 'count', MAX_COUNT);
    if (count < 1) throw new Error('--count must be at least 1');
    seed = parseCount(values.seed, 'seed', 0xffffffff);
    if (!values.out) throw new Error('missing --out');
  } catch (err) {
    process.stderr.write(`generate: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  let stats: WriteStats;
  try {
    stats = await writeJsonl(values.out, { count, seed, profile: profile.name });
  } catch (err) {
    // `generate ... --out - | head` closes the pipe early; that is not a failure.
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') return 0;
    process.stderr.write(`generate: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const secs = stats.ms / 1000;
  process.stderr.write(
    `wrote ${stats.records} records, ${(stats.bytes / 1e6).toFixed(1)} MB in ${secs.toFixed(1)} s ` +
      `(${Math.round(stats.records / secs)} records/s) to ${values.out}\n`,
  );
  return 0;
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
}

if (isMain()) process.exitCode = await cli(process.argv.slice(2));
