import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { isKnownCategory } from '../papers/taxonomy.js';
import { corpusPath } from './corpus.js';
import {
  CORPUS_PROFILES,
  CORPUS_PROFILE_NAMES,
  KAGGLE_KEYS,
  arxivDate,
  contentDocumentFrequencies,
  generateDfQueries,
  generateLines,
  generateQueries,
  parseProfile,
  writeJsonl,
  type CorpusProfileName,
  type KaggleRecord,
} from './generate.js';
import { buildVocabulary, texAccentsToUnicode } from './vocabulary.js';
import { searchDbDir } from './scenarios/search.js';
import { parseProgress, parseSummary, sustainedRate } from './scenarios/import.js';

const N = 1000;
const lines = [...generateLines({ count: N, seed: 7 })];
const records = lines.map((l) => JSON.parse(l) as KaggleRecord);

const KAGGLE_SAMPLE = 'arxiv-metadata-oai-snapshot.head200.jsonl';
const VERSION_DATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), ([1-9]|[12]\d|3[01]) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (20\d\d) \d\d:\d\d:\d\d GMT$/;

function take<T>(it: Iterable<T>, n: number): T[] {
  const out: T[] = [];
  for (const x of it) {
    if (out.length === n) break;
    out.push(x);
  }
  return out;
}

function share(pred: (r: KaggleRecord) => boolean): number {
  return records.filter(pred).length / records.length;
}

describe('synthetic Kaggle corpus', () => {
  it('is deterministic: same seed gives identical lines, another seed differs', () => {
    const again = take(generateLines({ count: N, seed: 7 }), 500);
    assert.deepEqual(again, lines.slice(0, 500));
    const other = take(generateLines({ count: N, seed: 8 }), 500);
    assert.notDeepEqual(other, lines.slice(0, 500));
    assert.notEqual(other[0], lines[0]);
  });

  it('writes valid ASCII JSON lines with the Kaggle keys in order and types', () => {
    for (const line of lines) {
      assert.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'));
      assert.match(line, /^[\x20-\x7e]*\n$/, 'non-ASCII must be \\u-escaped like the Kaggle dump');
      const r = JSON.parse(line) as Record<string, unknown>;
      assert.deepEqual(Object.keys(r), [...KAGGLE_KEYS]);
      for (const k of ['id', 'submitter', 'authors', 'title', 'categories', 'abstract', 'update_date']) {
        assert.equal(typeof r[k], 'string', k);
      }
      for (const k of ['comments', 'journal-ref', 'doi', 'report-no', 'license']) {
        assert.ok(r[k] === null || typeof r[k] === 'string', k);
      }
      assert.ok(Array.isArray(r.versions) && Array.isArray(r.authors_parsed));
    }
  });

  it('has the same keys as the real Kaggle sample', (t) => {
    const dir = join(process.env.PAPERBOY_SHARED_DATA ?? resolve('../shared/data'), 'arxiv/kaggle-jsonl');
    const source = existsSync(dir) ? readdirSync(dir).find((d) => existsSync(join(dir, d, KAGGLE_SAMPLE))) : undefined;
    const sample = join(dir, source ?? '*', KAGGLE_SAMPLE);
    if (source === undefined) {
      if (process.env.CI === 'true') assert.fail(`shared data missing: ${sample}`);
      t.skip(`shared data not found at ${sample}`);
      return;
    }
    const real = JSON.parse(readFileSync(sample, 'utf8').split('\n')[0] as string) as Record<string, unknown>;
    assert.deepEqual(Object.keys(records[0] as KaggleRecord), Object.keys(real));
  });

  it('writes abstracts of 150-250 words in arXiv layout', () => {
    for (const r of records) {
      const words = r.abstract.trim().split(/\s+/);
      assert.ok(words.length >= 150 && words.length <= 250, `${r.id}: ${words.length} words`);
      assert.ok(r.abstract.startsWith('  ') && r.abstract.endsWith('\n'));
      for (const line of r.abstract.split('\n')) {
        // Only an unbreakable token (a URL) may overflow the 79 columns.
        if (line.length > 79) assert.ok(!line.trim().includes(' ') || /https:/.test(line), `${r.id}: ${line}`);
      }
    }
  });

  it('writes titles of 6-15 words wrapped like arXiv headers', () => {
    for (const r of records) {
      const words = r.title.split(/\s+/).length;
      assert.ok(words >= 6 && words <= 15, `${r.id}: ${words} title words`);
      const [first, ...rest] = r.title.split('\n');
      assert.ok((first as string).length <= 72 || !(first as string).includes(' '));
      for (const l of rest) assert.ok(l.startsWith('  ') && l.length <= 79);
    }
  });

  it('numbers ids like arXiv: unique, increasing, matching the v1 month, 5 digits from 2015', () => {
    const ids = records.map((r) => r.id);
    assert.equal(new Set(ids).size, ids.length);
    const sorted = [...ids].sort();
    assert.deepEqual(ids, sorted);
    for (const r of records) {
      assert.match(r.id, /^\d{4}\.\d{4,5}$/);
      const m = VERSION_DATE.exec(r.versions[0]?.created ?? '');
      assert.ok(m, `${r.id}: ${r.versions[0]?.created}`);
      const year = Number(m[4]);
      const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'].indexOf(m[3] as string) + 1;
      assert.equal(r.id.slice(0, 4), `${String(year % 100).padStart(2, '0')}${String(month).padStart(2, '0')}`);
      assert.equal(r.id.length, year >= 2015 ? 10 : 9, r.id);
      assert.ok(year >= 2007 && year <= 2026);
    }
  });

  it('lists 1-5 versions with increasing dates and an update_date not before the last', () => {
    for (const r of records) {
      assert.ok(r.versions.length >= 1 && r.versions.length <= 5);
      let previous = 0;
      r.versions.forEach((v, i) => {
        assert.equal(v.version, `v${i + 1}`);
        assert.match(v.created, VERSION_DATE);
        const t = Date.parse(v.created);
        assert.ok(t > previous, `${r.id} v${i + 1}`);
        previous = t;
      });
      assert.match(r.update_date, /^\d{4}-\d\d-\d\d$/);
      assert.ok(r.update_date >= new Date(previous).toISOString().slice(0, 10));
    }
  });

  it('uses 1-4 distinct categories known to the taxonomy, led by the popular ones', () => {
    const primary = new Map<string, number>();
    for (const r of records) {
      const cats = r.categories.split(' ');
      assert.ok(cats.length >= 1 && cats.length <= 4, r.categories);
      assert.equal(new Set(cats).size, cats.length);
      for (const c of cats) assert.ok(isKnownCategory(c), c);
      primary.set(cats[0] as string, (primary.get(cats[0] as string) ?? 0) + 1);
    }
    const top = [...primary.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([c]) => c);
    assert.ok(top.includes('cs.LG'), `top primaries: ${top.join(' ')}`);
  });

  it('gives 1-12 authors with parsed names matching the text', () => {
    for (const r of records) {
      assert.ok(r.authors_parsed.length >= 1 && r.authors_parsed.length <= 12);
      for (const p of r.authors_parsed) {
        assert.ok(p.length === 3 || p.length === 4);
        assert.ok(p.every((s) => typeof s === 'string'));
      }
      const last = r.authors_parsed[r.authors_parsed.length - 1] as string[];
      // Text keeps TeX accents while parsed names are Unicode, so compare the ASCII tail.
      const tail = (last[0] as string).split(/[^A-Za-z]/).pop() ?? '';
      assert.ok(r.authors.replace(/\n {2}/g, ' ').includes(tail), `${r.authors} / ${tail}`);
    }
    const accented = share((r) => /\\["'`^~cvH]/.test(r.authors));
    assert.ok(accented > 0.01 && accented < 0.25, `TeX accents in ${accented}`);
  });

  it('has realistic shares of DOIs, GitHub links and TeX math', () => {
    const doi = share((r) => r.doi !== null);
    assert.ok(doi > 0.06 && doi < 0.14, `doi ${doi}`);
    assert.ok(records.every((r) => (r.doi === null) || r['journal-ref'] !== null));
    for (const r of records) if (r.doi !== null) assert.match(r.doi, /^10\.\d{4,5}\/\S+$/);
    const github = share((r) => /https:\/\/github\.com\/[\w-]+\/[\w-]+/.test(`${r.abstract} ${r.comments ?? ''}`));
    assert.ok(github > 0.025 && github < 0.08, `github ${github}`);
    const math = share((r) => /\$[^$\s]+\$/.test(r.abstract));
    assert.ok(math > 0.01 && math < 0.06, `math ${math}`);
  });

  it('draws abstract words from a Zipf-like distribution', () => {
    const freq = new Map<string, number>();
    for (const r of records) {
      for (const w of r.abstract.toLowerCase().split(/[\s,.]+/)) if (w) freq.set(w, (freq.get(w) ?? 0) + 1);
    }
    const counts = [...freq.values()].sort((a, b) => b - a);
    const median = counts[Math.floor(counts.length / 2)] as number;
    const top = counts[0] as number;
    assert.ok(top > 1000 * median, `top ${top}, median ${median}`);
    assert.equal([...freq.entries()].find(([, c]) => c === top)?.[0], 'the');
    // Zipf: frequency ~ 1/rank, so rank 10 has roughly a tenth of rank 1.
    const ratio = top / (counts[9] as number);
    assert.ok(ratio > 5 && ratio < 20, `rank1/rank10 = ${ratio}`);
    assert.ok(freq.size > 10_000, `distinct words ${freq.size}`);
  });
});

describe('generateQueries', () => {
  it('is deterministic and makes 1-5 distinct vocabulary words, no function words', () => {
    const q = generateQueries(300, 1);
    assert.deepEqual(generateQueries(300, 1), q);
    assert.notDeepEqual(generateQueries(300, 2), q);
    const vocab = buildVocabulary();
    const rank = new Map(vocab.words.map((w, i) => [w, i]));
    const lengths = new Set<number>();
    let rare = 0;
    for (const query of q) {
      const words = query.split(' ');
      lengths.add(words.length);
      assert.ok(words.length >= 1 && words.length <= 5);
      assert.equal(new Set(words).size, words.length);
      for (const w of words) {
        const r = rank.get(w);
        assert.ok(r !== undefined && r >= vocab.stopCount, `${w} in "${query}"`);
        if (r > 5000) rare++;
      }
    }
    assert.deepEqual([...lengths].sort(), [1, 2, 3, 4, 5]);
    assert.ok(rare > 0, 'some rare words');
  });
});

describe('helpers', () => {
  it('formats version dates like arXiv (day not zero-padded)', () => {
    assert.equal(arxivDate(Date.UTC(2007, 3, 2, 19, 18, 42)), 'Mon, 2 Apr 2007 19:18:42 GMT');
  });

  it('decodes the TeX accents it writes', () => {
    assert.equal(texAccentsToUnicode('M\\"uller'), 'Müller');
    assert.equal(texAccentsToUnicode('M\\"{u}ller'), 'Müller');
    assert.equal(texAccentsToUnicode("Djokovi\\'{c}"), 'Djoković');
    assert.equal(texAccentsToUnicode('{\\v S}tefan\\v{c}i\\v{c}'), 'Štefančič');
    assert.equal(texAccentsToUnicode('S\\o{}ren Ho{\\ss}feld'), 'Søren Hoßfeld');
    assert.equal(texAccentsToUnicode('Plain'), 'Plain');
  });

  it('streams the same bytes to a file as generateLines yields', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'paperboy-gen-'));
    try {
      const file = join(dir, 'c.jsonl');
      const stats = await writeJsonl(file, { count: 200, seed: 3 });
      const text = await readFile(file, 'utf8');
      assert.equal(text, [...generateLines({ count: 200, seed: 3 })].join(''));
      assert.equal(stats.records, 200);
      assert.equal(stats.bytes, Buffer.byteLength(text));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('parses the import summary and progress, and computes the sustained rate', () => {
    const summary = parseSummary(
      'Import finished in 3s: 1 files, 6,000 records/s\n  imported   20,000\n  updated    0\n  unchanged  0\n  skipped    0\n',
    );
    assert.deepEqual(summary, { imported: 20_000, updated: 0, unchanged: 0, skipped: 0, problems: 0 });
    assert.equal(parseSummary('garbage'), null);
    const samples = parseProgress([
      { t: 1000, line: 'progress 1000 records 1000/s' },
      { t: 2000, line: 'something else' },
      { t: 3000, line: 'progress 5000 records 1666/s' },
    ]);
    assert.deepEqual(samples, [{ t: 1000, records: 1000 }, { t: 3000, records: 5000 }]);
    // Midpoint 2 s: starts from the 1 s sample, ends at exit (4 s, 8,000 records).
    assert.equal(sustainedRate(samples, 4000, 8000), 7000 / 3);
    assert.equal(sustainedRate([], 4000, 8000), null);
  });
});

describe('corpus profiles and the document-frequency query mix', () => {
  const P = 300;
  const sample = (profile: CorpusProfileName): KaggleRecord[] =>
    [...generateLines({ count: P, seed: 7, profile })].map((l) => JSON.parse(l) as KaggleRecord);
  const byProfile = new Map(CORPUS_PROFILE_NAMES.map((p) => [p, sample(p)]));
  const get = (p: CorpusProfileName): KaggleRecord[] => byProfile.get(p) as KaggleRecord[];
  const abstractWords = (r: KaggleRecord): number => r.abstract.trim().split(/\s+/).length;
  const titleWords = (r: KaggleRecord): number => r.title.split(/\s+/).length;
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  /** Share of abstract words (lower-cased, punctuation stripped) that are in `words`. */
  const shareIn = (recs: KaggleRecord[], words: Set<string>): number => {
    const tokens = recs.flatMap((r) => r.abstract.toLowerCase().split(/\s+/).map((w) => w.replace(/[.,:]$/, '')).filter((w) => w !== ''));
    return tokens.filter((w) => words.has(w)).length / tokens.length;
  };

  it('leaves the default output unchanged: profile default is the same bytes as no profile', () => {
    assert.deepEqual(take(generateLines({ count: N, seed: 7, profile: 'default' }), 200), lines.slice(0, 200));
  });

  it('is deterministic per profile, and profiles differ', () => {
    for (const p of CORPUS_PROFILE_NAMES) {
      assert.deepEqual(sample(p), get(p), p);
      if (p !== 'default') assert.notDeepEqual(get(p)[0]?.abstract, get('default')[0]?.abstract, p);
    }
  });

  it('keeps abstracts and titles within each profile’s lengths, and the lengths differ', () => {
    for (const p of CORPUS_PROFILE_NAMES) {
      const { abstractWords: [aMin, aMax], titleWords: [tMin, tMax] } = CORPUS_PROFILES[p];
      for (const r of get(p)) {
        // A code sentence (up to 7 tokens) replaces body words, never adds to the total.
        assert.ok(abstractWords(r) >= aMin && abstractWords(r) <= aMax, `${p}: ${abstractWords(r)} words`);
        assert.ok(titleWords(r) >= tMin && titleWords(r) <= tMax, `${p}: title ${titleWords(r)} words`);
      }
    }
    const meanAbstract = (p: CorpusProfileName): number => mean(get(p).map(abstractWords));
    assert.ok(meanAbstract('short') < 70 && meanAbstract('narrow') < 70);
    assert.ok(meanAbstract('long') > 230 && meanAbstract('wide') > 230);
    assert.ok(meanAbstract('default') > 180 && meanAbstract('default') < 220);
  });

  it('gives wide and narrow their own vocabularies, flatter and steeper', () => {
    const vocab = (p: CorpusProfileName): readonly string[] => buildVocabulary(CORPUS_PROFILES[p].vocabSeed).words;
    assert.equal(vocab('short'), vocab('default'));
    const head = (p: CorpusProfileName): Set<string> => new Set(vocab(p).slice(0, 2000));
    const tail = (p: CorpusProfileName): string[] => vocab(p).slice(5000, 5100);
    // Other made-up words, and the real words in another order.
    assert.ok(tail('wide').filter((w) => vocab('default').includes(w)).length < 10);
    assert.notDeepEqual(vocab('narrow').slice(46, 80), vocab('default').slice(46, 80));
    // The head (top 2,000 ranks) covers more of a steep vocabulary's text than of a flat one's.
    const headShare = (p: CorpusProfileName): number => shareIn(get(p), head(p));
    assert.ok(headShare('narrow') > headShare('default') && headShare('default') > headShare('wide'),
      `${headShare('narrow')} > ${headShare('default')} > ${headShare('wide')}`);
  });

  it('gives topical papers of one primary category more words in common than papers of two', () => {
    const overlap = (recs: KaggleRecord[]): { same: number; other: number } => {
      const words = (r: KaggleRecord): Set<string> =>
        new Set(r.abstract.toLowerCase().split(/\s+/).map((w) => w.replace(/[.,:]$/, '')).filter((w) => w.length > 3));
      const bags = recs.map((r) => ({ category: r.categories.split(' ')[0], words: words(r) }));
      const sums = { same: [0, 0], other: [0, 0] };
      for (let i = 0; i < bags.length; i++) {
        for (let j = i + 1; j < bags.length; j++) {
          const a = bags[i]!;
          const b = bags[j]!;
          let shared = 0;
          for (const w of a.words) if (b.words.has(w)) shared++;
          const s = a.category === b.category ? sums.same : sums.other;
          s[0]! += shared / Math.min(a.words.size, b.words.size);
          s[1]! += 1;
        }
      }
      return { same: sums.same[0]! / sums.same[1]!, other: sums.other[0]! / sums.other[1]! };
    };
    const topical = overlap(get('topical'));
    const plain = overlap(get('default'));
    assert.ok(topical.same > 1.5 * topical.other, `topical: ${topical.same} vs ${topical.other}`);
    // Without topics a shared category means nothing.
    assert.ok(Math.abs(plain.same - plain.other) < 0.1 * plain.other, `default: ${plain.same} vs ${plain.other}`);
  });

  it('rejects unknown profile names and keys cached files by profile', () => {
    assert.throws(() => parseProfile('tiny'), /unknown corpus profile/);
    assert.equal(corpusPath('/o', 10, 1), '/o/corpus/arxiv-synthetic-v1-n10-s1.jsonl');
    assert.equal(corpusPath('/o', 10, 1, 'wide'), '/o/corpus/arxiv-synthetic-v1-n10-s1-pwide.jsonl');
    assert.equal(searchDbDir('/o', 10, 1), '/o/db/search-n10-s1');
    assert.equal(searchDbDir('/o', 10, 1, 'narrow'), '/o/db/search-n10-s1-pnarrow');
  });

  it('draws 1-3 distinct content words by document frequency, deterministically', () => {
    const qs = generateDfQueries(2000, 1, 'default');
    assert.deepEqual(generateDfQueries(2000, 1, 'default'), qs);
    assert.notDeepEqual(generateDfQueries(50, 2, 'default'), qs.slice(0, 50));
    assert.notDeepEqual(qs.slice(0, 50), generateQueries(50, 1));
    const vocab = buildVocabulary();
    const stop = new Set(vocab.words.slice(0, vocab.stopCount));
    const rank = new Map(vocab.words.map((w, i) => [w, i]));
    const counts = [0, 0, 0, 0];
    let headWords = 0;
    let total = 0;
    for (const q of qs) {
      const ws = q.split(' ');
      counts[ws.length] = (counts[ws.length] ?? 0) + 1;
      assert.equal(new Set(ws).size, ws.length);
      for (const w of ws) {
        assert.ok(!stop.has(w) && rank.has(w), w);
        total++;
        if ((rank.get(w) as number) < vocab.stopCount + 100) headWords++;
      }
    }
    assert.equal(counts[0], 0);
    for (const n of [1, 2, 3]) assert.ok((counts[n] as number) > 300, `${n} words: ${counts[n]}`);
    // Very common words are a large share, as they are of the papers' distinct words.
    const df = contentDocumentFrequencies(CORPUS_PROFILES.default);
    assert.ok((df[0] as number) > (df[100] as number) && (df[0] as number) < 1);
    assert.ok(headWords / total > 0.12, `top-100 words: ${headWords / total}`);
  });
});
