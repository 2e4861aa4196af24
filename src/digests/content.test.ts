import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Preferences } from '../subscriptions/preferences.js';
import { DigestSelector, keywordPattern, MAX_KEYWORD_PAPERS, periodOf, selectFor, type DigestContent, type DigestPaper } from './content.js';

function paper(i: number, title: string, categories: string[], summary = ''): DigestPaper {
  return { id: i, arxivId: `2612.${String(i).padStart(5, '0')}`, title, authors: [], authorCount: 0, summary, categories, upvotes: 0, comments: 0 };
}

function prefs(overrides: Partial<Preferences> = {}): Preferences {
  return { cadence: 'daily', paperCount: 10, categories: [], keywords: [], mutedKeywords: [], ...overrides };
}

const content: DigestContent = {
  cadence: 'daily',
  from: '2026-12-03',
  to: '2026-12-03',
  papers: [
    paper(0, 'Diffusion models for images', ['cs.CV', 'cs.LG']),
    paper(1, 'Organ segmentation with U-Nets', ['eess.IV']),
    paper(2, 'String theory on a torus', ['hep-th']),
    paper(3, 'A GAN that draws', ['cs.LG']),
    paper(4, 'Quantum error correction', ['quant-ph'], 'We improve surface codes for C++ users.'),
    paper(5, 'Graph neural networks at scale', ['cs.LG', 'stat.ML']),
    paper(6, 'Lattice QCD', ['hep-lat']),
  ],
};

test('periods: a day, or the 7 days ending on the day', () => {
  assert.deepEqual(periodOf('daily', '2026-12-03'), { from: '2026-12-03', to: '2026-12-03' });
  assert.deepEqual(periodOf('weekly', '2026-03-01'), { from: '2026-02-23', to: '2026-03-01' });
});

test('keywords match whole words, whatever the case, including ones with symbols', () => {
  assert.ok(keywordPattern('gan').test('A GAN that draws'));
  assert.ok(!keywordPattern('gan').test('Organ segmentation'));
  assert.ok(keywordPattern('C++').test('codes for C++ users'));
  assert.ok(keywordPattern('C').test('codes for C++ users'), 'C is a word before ++');
  assert.ok(keywordPattern('neural  networks').test('Graph neural\nnetworks'));
  assert.ok(!keywordPattern('u-net').test('with U-Nets'), 'U-Nets is a longer word');
  assert.ok(keywordPattern('théorie').test('La Théorie des cordes'));
  assert.ok(!keywordPattern('a.b').test('axb'), 'regex characters are literal');
});

test('trending is the first paperCount papers in the chosen categories, in content order', () => {
  assert.deepEqual(selectFor(content, prefs({ paperCount: 3 })), { trending: [0, 1, 2], keywords: [] });
  assert.deepEqual(selectFor(content, prefs({ categories: ['cs.LG'] })), { trending: [0, 3, 5], keywords: [] });
  // An archive stands for its categories.
  assert.deepEqual(selectFor(content, prefs({ categories: ['hep-th', 'hep-lat', 'quant-ph'] })), { trending: [2, 4, 6], keywords: [] });
  assert.deepEqual(selectFor(content, prefs({ categories: ['eess'] })), { trending: [1], keywords: [] });
  assert.equal(selectFor(content, prefs({ categories: ['math.AG'] })), null, 'nothing to send');
});

test('muted keywords drop papers by title or summary', () => {
  assert.deepEqual(selectFor(content, prefs({ mutedKeywords: ['gan', 'surface codes'] })), { trending: [0, 1, 2, 5, 6], keywords: [] });
  assert.deepEqual(selectFor(content, prefs({ mutedKeywords: ['organ'] })), { trending: [0, 2, 3, 4, 5, 6], keywords: [] });
});

test('boosted papers beyond paperCount make the keywords section, at most five', () => {
  assert.deepEqual(selectFor(content, prefs({ paperCount: 2, keywords: ['lattice', 'graph', 'diffusion'] })), {
    trending: [0, 1],
    keywords: [5, 6],
  });
  const many: DigestContent = { ...content, papers: Array.from({ length: 30 }, (_, i) => paper(i, `Topic ${i % 2 === 0 ? 'robots' : 'plants'}`, ['cs.RO'])) };
  const selection = selectFor(many, prefs({ paperCount: 4, keywords: ['robots'] }));
  assert.deepEqual(selection?.trending, [0, 1, 2, 3]);
  assert.deepEqual(selection?.keywords, [4, 6, 8, 10, 12]);
  assert.equal(selection?.keywords.length, MAX_KEYWORD_PAPERS);
  // A boosted paper the recipient mutes stays out.
  assert.deepEqual(selectFor(content, prefs({ paperCount: 1, keywords: ['graph'], mutedKeywords: ['networks'] })), { trending: [0], keywords: [] });
});

test('an empty period sends nothing', () => {
  assert.equal(selectFor({ ...content, papers: [] }, prefs()), null);
});

test('a selector gives the same answer as selectFor and reuses it for equal preferences', () => {
  const selector = new DigestSelector(content);
  const a = selector.select(prefs({ keywords: ['gan'] }));
  assert.deepEqual(a, selectFor(content, prefs({ keywords: ['gan'] })));
  assert.equal(selector.select(prefs({ keywords: ['gan'], cadence: 'weekly' })), a);
});

const CATEGORIES = ['cs.LG', 'cs.CV', 'hep-th', 'math.AG', 'stat.ML', 'q-bio.NC'];
const WORDS = ['graph', 'quantum', 'GAN', 'organ', 'neural', 'diffusion', 'torus', 'C++', 'model'];
const titleArb = fc.array(fc.constantFrom(...WORDS, 'of', 'the', 'and'), { minLength: 1, maxLength: 6 }).map((w) => w.join(' '));
const contentArb = fc
  .array(fc.record({ title: titleArb, summary: titleArb, categories: fc.subarray(CATEGORIES, { minLength: 1 }) }), { maxLength: 40 })
  .map(
    (papers): DigestContent => ({
      cadence: 'daily',
      from: '2026-12-03',
      to: '2026-12-03',
      papers: papers.map((p, i) => paper(i, p.title, p.categories, p.summary)),
    }),
  );
const prefsArb = fc.record({
  cadence: fc.constant('daily' as const),
  paperCount: fc.integer({ min: 1, max: 50 }),
  categories: fc.subarray([...CATEGORIES, 'cs', 'hep-th']),
  keywords: fc.subarray(WORDS),
  mutedKeywords: fc.subarray(WORDS),
});

test('property: selections respect every preference', () => {
  fc.assert(
    fc.property(contentArb, prefsArb, (c, p) => {
      const selection = selectFor(c, p);
      const all = selection === null ? [] : [...selection.trending, ...selection.keywords];
      if (selection !== null) {
        assert.ok(all.length > 0, 'null, never an empty selection');
        assert.ok(selection.trending.length <= p.paperCount);
        assert.ok(selection.keywords.length <= MAX_KEYWORD_PAPERS);
        assert.equal(new Set(all).size, all.length, 'no paper twice');
      }
      for (const i of all) {
        const chosen = c.papers[i];
        assert.ok(chosen !== undefined);
        for (const muted of p.mutedKeywords) {
          assert.ok(!keywordPattern(muted).test(`${chosen.title} ${chosen.summary}`), `muted "${muted}" in ${chosen.title}`);
        }
        if (p.categories.length > 0) {
          assert.ok(
            chosen.categories.some((cat) => p.categories.includes(cat) || (p.categories.includes('cs') && cat.startsWith('cs.'))),
            `${chosen.categories.join(' ')} not in ${p.categories.join(' ')}`,
          );
        }
      }
      for (const i of selection?.keywords ?? []) {
        const chosen = c.papers[i]!;
        assert.ok(p.keywords.some((k) => keywordPattern(k).test(`${chosen.title} ${chosen.summary}`)), 'a keyword paper matches a keyword');
      }
      // Trending is a prefix: no eligible paper is skipped before the last one shown.
      const eligible = c.papers
        .map((_, i) => i)
        .filter((i) => {
          const x = c.papers[i]!;
          const inCategory = p.categories.length === 0 || x.categories.some((cat) => p.categories.includes(cat) || (p.categories.includes('cs') && cat.startsWith('cs.')));
          return inCategory && !p.mutedKeywords.some((m) => keywordPattern(m).test(`${x.title} ${x.summary}`));
        });
      assert.deepEqual(selection?.trending ?? [], eligible.slice(0, p.paperCount));
    }),
    { numRuns: 300 },
  );
});
