import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import type { RawPaper } from '../ingest/record.js';
import { parseArxivDate } from './dates.js';
import { normalizePaper, type NormalizedPaper } from './normalize.js';

function ok(raw: RawPaper): NormalizedPaper {
  const r = normalizePaper(raw);
  if ('error' in r) assert.fail(`unexpected error: ${r.error}`);
  return r;
}

const base: RawPaper = {
  id: '0704.0001',
  title: 'Calculation of prompt diphoton production cross sections at Tevatron and\n  LHC energies',
  abstract: '  A fully differential calculation in perturbative quantum chromodynamics is\npresented for the production of massive photon pairs at hadron colliders.\n',
  authors: { kind: 'text', value: "C. Bal\\'azs, E. L. Berger, P. M. Nadolsky, C.-P. Yuan" },
  categories: ['hep-ph'],
  comments: '37 pages, 15 figures; published version',
  journalRef: 'Phys.Rev.D76:013009,2007',
  doi: '10.1103/PhysRevD.76.013009',
  reportNo: 'ANL-HEP-PR-07-12',
  license: null,
  submitter: 'Pavel Nadolsky',
  versions: [
    { version: 2, submittedAt: '2007-07-24T20:10:27.000Z' },
    { version: 1, submittedAt: '2007-04-02T19:18:42.000Z', size: '377kb' },
  ],
};

test('a Kaggle record, field by field', () => {
  const p = ok(base);
  assert.equal(p.arxivId, '0704.0001');
  assert.equal(p.version, 2);
  assert.equal(p.title, 'Calculation of prompt diphoton production cross sections at Tevatron and LHC energies');
  assert.equal(p.titleText, p.title);
  assert.equal(
    p.abstract,
    'A fully differential calculation in perturbative quantum chromodynamics is presented for the production of massive photon pairs at hadron colliders.',
  );
  assert.equal(p.abstractText, p.abstract);
  assert.equal(p.authorsText, 'C. Balázs, E. L. Berger, P. M. Nadolsky, C.-P. Yuan');
  assert.deepEqual(p.authors.map((a) => a.keyname), ['Balázs', 'Berger', 'Nadolsky', 'Yuan']);
  assert.deepEqual(p.categories, ['hep-ph']);
  assert.equal(p.primaryCategory, 'hep-ph');
  assert.equal(p.doi, '10.1103/physrevd.76.013009');
  assert.deepEqual(p.versions, [
    { version: 1, submittedAt: '2007-04-02T19:18:42.000Z', size: '377kb' },
    { version: 2, submittedAt: '2007-07-24T20:10:27.000Z', size: null },
  ]);
  assert.equal(p.publishedAt, '2007-04-02T19:18:42.000Z');
  assert.equal(p.updatedAt, '2007-07-24T20:10:27.000Z');
  assert.equal(p.announcedOn, null);
  // Mon 15:18 EDT: after Monday's cutoff, announced Tue 20:00 EDT = Wed UTC.
  assert.equal(p.announcedEstimate, '2007-04-04');
  assert.equal(p.withdrawn, null);
  assert.equal(p.license, null);
  assert.equal(p.mscClass, null);
  assert.deepEqual(p.links, []);
});

test('ids: prefixes, versions, external ids, errors', () => {
  assert.equal(ok({ ...base, id: 'arXiv:0704.0001v3', versions: null }).version, 3);
  assert.equal(ok({ ...base, id: '0704.0001v3', version: 2, versions: null }).version, 2);
  assert.equal(ok({ ...base, id: '0704.0001v1', version: null }).version, 2);
  assert.equal(ok({ ...base, id: '0704.0001', versions: null }).version, 1);
  assert.equal(ok({ ...base, id: 'math.AG/0601001' }).arxivId, 'math/0601001');
  assert.equal(ok({ ...base, id: 'beir:4983' }).arxivId, 'beir:4983');
  assert.deepEqual(normalizePaper({ ...base, id: 'not an id' }), { error: 'invalid arXiv id "not an id"' });
  assert.deepEqual(normalizePaper({ ...base, id: '' }), { error: 'invalid arXiv id ""' });
});

test('title is required; abstract is not', () => {
  assert.deepEqual(normalizePaper({ ...base, title: null }), { error: 'missing title' });
  assert.deepEqual(normalizePaper({ ...base, title: ' \n  ' }), { error: 'missing title' });
  assert.deepEqual(normalizePaper({ id: '2106.09685' }), { error: 'missing title' });
  const p = ok({ id: '2106.09685', title: 'LoRA' });
  assert.equal(p.abstract, '');
  assert.equal(p.abstractText, '');
  assert.deepEqual(p.authors, []);
  assert.deepEqual(p.categories, []);
  assert.equal(p.primaryCategory, null);
  assert.equal(p.publishedAt, null);
  assert.equal(p.updatedAt, null);
  assert.equal(p.announcedEstimate, null);
});

test('abstract paragraphs and TeX', () => {
  const p = ok({
    ...base,
    title: 'On $\\alpha$-decay in \\emph{G\\"odel} spaces',
    abstract: '  First paragraph with $x^2$\nwrapped.\n  Second paragraph starts\nhere.\n\nThird after a blank line.\n',
  });
  assert.equal(p.title, 'On $\\alpha$-decay in \\emph{G\\"odel} spaces');
  assert.equal(p.titleText, 'On α-decay in Gödel spaces');
  assert.equal(p.abstract, 'First paragraph with $x^2$ wrapped.\n\nSecond paragraph starts here.\n\nThird after a blank line.');
  assert.equal(p.abstractText, 'First paragraph with x2 wrapped.\n\nSecond paragraph starts here.\n\nThird after a blank line.');
});

test('authors from names and parts', () => {
  const names = ok({ ...base, authors: { kind: 'names', names: [{ name: 'Carlos Balázs', affiliations: ['ANL'] }, { name: ' ' }] } });
  assert.deepEqual(names.authors, [
    { name: 'Carlos Balázs', keyname: 'Balázs', forenames: 'Carlos', suffix: null, affiliations: ['ANL'] },
  ]);
  const parts = ok({ ...base, authors: { kind: 'parts', parts: [{ keyname: 'Evans', forenames: 'Neal J.', suffix: 'II' }] } });
  assert.equal(parts.authorsText, 'Neal J. Evans II');
});

test('categories: split, deduplicated, primary first', () => {
  assert.deepEqual(ok({ ...base, categories: ['math.CO cs.CG'] }).categories, ['math.CO', 'cs.CG']);
  const p = ok({ ...base, categories: ['cs.LG', 'stat.ML', 'cs.LG'], primaryCategory: 'stat.ML' });
  assert.deepEqual(p.categories, ['stat.ML', 'cs.LG']);
  assert.equal(p.primaryCategory, 'stat.ML');
  const q = ok({ ...base, categories: ['cs.LG'], primaryCategory: 'cs.AI' });
  assert.deepEqual(q.categories, ['cs.AI', 'cs.LG']);
});

test('versions: sorted, deduplicated, latest wins; dates from raw fields otherwise', () => {
  const p = ok({
    ...base,
    version: 4,
    versions: [
      { version: 3, submittedAt: 'Tue, 5 Jan 1999 21:36:42 GMT' },
      { version: 1, submittedAt: '1999-01-01T01:01:10Z' },
      { version: 3, submittedAt: '1999-01-06T00:00:00Z', size: '15kb' },
      { version: 0, submittedAt: '1999-01-01T00:00:00Z' },
      { version: 2, submittedAt: 'garbage' },
    ],
    updatedAt: '2001-02-03',
  });
  assert.deepEqual(p.versions, [
    { version: 1, submittedAt: '1999-01-01T01:01:10.000Z', size: null },
    { version: 3, submittedAt: '1999-01-05T21:36:42.000Z', size: '15kb' },
  ]);
  assert.equal(p.version, 4);
  assert.equal(p.publishedAt, '1999-01-01T01:01:10.000Z');
  // v4 has no date of its own, so the source's update date stands.
  assert.equal(p.updatedAt, '2001-02-03T00:00:00.000Z');
  const q = ok({ ...base, versions: null, publishedAt: '2017-12-14T13:00:41Z', updatedAt: null });
  assert.equal(q.publishedAt, '2017-12-14T13:00:41.000Z');
  assert.equal(q.updatedAt, '2017-12-14T13:00:41.000Z');
  const r = ok({ ...base, versions: [{ version: 3, submittedAt: '2020-01-01T00:00:00Z' }], publishedAt: '2019-05-05' });
  assert.equal(r.publishedAt, '2019-05-05T00:00:00.000Z');
  assert.equal(r.updatedAt, '2020-01-01T00:00:00.000Z');
});

test('announcedOn is kept as the source says; the estimate is separate', () => {
  assert.equal(ok({ ...base, announcedOn: '2007-04-03' }).announcedOn, '2007-04-03');
  assert.equal(ok({ ...base, announcedOn: 'Tue, 3 Apr 2007 00:00:00 GMT' }).announcedOn, '2007-04-03');
  assert.equal(ok({ ...base, announcedOn: 'soon' }).announcedOn, null);
});

test('withdrawn: source flag first, then the documented heuristic', () => {
  assert.equal(ok({ ...base, withdrawn: true }).withdrawn, true);
  assert.equal(ok({ ...base, withdrawn: false, comments: 'This paper has been withdrawn', abstract: 'x' }).withdrawn, false);
  assert.equal(
    ok({ ...base, comments: 'This paper has been withdrawn by the author due to a crucial error', abstract: 'This paper has been withdrawn.' })
      .withdrawn,
    true,
  );
  assert.equal(ok({ ...base, comments: 'withdrawn', abstract: 'Short.' }).withdrawn, true);
  // A long abstract mentioning withdrawal in passing is not a withdrawal notice.
  assert.equal(ok({ ...base, comments: 'v2: withdrawn claim removed', abstract: 'x'.repeat(400) }).withdrawn, null);
  assert.equal(ok({ ...base, abstract: `${'y'.repeat(400)} This paper has been withdrawn.` }).withdrawn, true);
  assert.equal(ok({ ...base, abstract: 'A previous version of this paper was withdrawn; this is new.' }).withdrawn, null);
});

test('licence, DOI and one-line fields', () => {
  const lic = (license: string | null): string | null => ok({ ...base, license }).license;
  assert.equal(lic('http://arxiv.org/licenses/nonexclusive-distrib/1.0/'), 'http://arxiv.org/licenses/nonexclusive-distrib/1.0/');
  assert.equal(lic('https://creativecommons.org/licenses/by/4.0'), 'http://creativecommons.org/licenses/by/4.0/');
  assert.equal(lic('CC BY-NC-SA 4.0'), 'http://creativecommons.org/licenses/by-nc-sa/4.0/');
  assert.equal(lic('CC0'), 'http://creativecommons.org/publicdomain/zero/1.0/');
  assert.equal(lic('https://example.org/licence'), 'https://example.org/licence');
  assert.equal(lic('all rights reserved'), null);
  assert.equal(lic('  '), null);
  assert.equal(lic(null), null);
  const doi = (d: string): string | null => ok({ ...base, doi: d }).doi;
  assert.equal(doi('https://doi.org/10.1143/PTP.101.1155'), '10.1143/ptp.101.1155');
  assert.equal(doi('http://dx.doi.org/10.1/A doi:10.2/B'), '10.1/a 10.2/b');
  assert.equal(doi(''), null);
  const p = ok({ ...base, comments: '12 pages, 1 figure, plain LaTeX. An important proof added in section\n  5. Final', submitter: '  ', mscClass: ' 14J32 ' });
  assert.equal(p.comments, '12 pages, 1 figure, plain LaTeX. An important proof added in section 5. Final');
  assert.equal(p.submitter, null);
  assert.equal(p.mscClass, '14J32');
});

test('links from abstract and comments', () => {
  const p = ok({
    ...base,
    abstract: 'Code and results are available at https://opendatalab.github.io/REST.',
    comments: 'Python code at https://github.com/ydecastro/super-resolution-testing; see also https://arxiv.org/abs/1707.08567',
  });
  assert.deepEqual(p.links, [
    { url: 'https://opendatalab.github.io/REST', kind: 'project' },
    { url: 'https://github.com/ydecastro/super-resolution-testing', kind: 'code' },
  ]);
});

/** The Kaggle snapshot mapped to RawPaper the way a parser would (strings as found). */
function kaggleToRaw(line: string): RawPaper {
  const r = JSON.parse(line) as Record<string, unknown>;
  const versions = (r.versions as { version: string; created: string }[]).map((v) => ({
    version: Number(v.version.slice(1)),
    submittedAt: parseArxivDate(v.created) ?? v.created,
  }));
  return {
    id: r.id as string,
    title: r.title as string,
    abstract: r.abstract as string,
    authors: { kind: 'text', value: r.authors as string },
    categories: [r.categories as string],
    comments: r.comments as string | null,
    journalRef: r['journal-ref'] as string | null,
    doi: r.doi as string | null,
    reportNo: r['report-no'] as string | null,
    license: r.license as string | null,
    submitter: r.submitter as string | null,
    versions,
    updatedAt: r.update_date as string,
  };
}

function kaggleLines(): string[] | null {
  const repo = fileURLToPath(new URL('../../../', import.meta.url));
  const shared = resolve(repo, process.env.PAPERBOY_SHARED_DATA ?? '../shared/data');
  const file = join(shared, 'arxiv/kaggle-jsonl/wanng-ide_arxivSpider_mnbvc/arxiv-metadata-oai-snapshot.head200.jsonl');
  if (!existsSync(file)) return null;
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim().length > 0);
}

test('all 200 Kaggle records normalise, deterministically and without undefined', (t) => {
  const lines = kaggleLines();
  if (lines === null) {
    t.skip('no shared data');
    return;
  }
  assert.equal(lines.length, 200);
  for (const line of lines) {
    const raw = kaggleToRaw(line);
    const p = ok(raw);
    const json = JSON.stringify(p);
    assert.equal(JSON.stringify(ok(kaggleToRaw(line))), json, raw.id);
    assert.ok(!Object.values(p).includes(undefined), raw.id);
    assert.ok(p.authors.length > 0, raw.id);
    assert.ok(p.title.length > 0 && !p.title.includes('\n'), raw.id);
    assert.ok(p.categories.length > 0 && p.primaryCategory === p.categories[0], raw.id);
    assert.ok(p.publishedAt !== null && p.announcedEstimate !== null, raw.id);
    assert.ok(p.version === p.versions.length, raw.id);
    assert.equal(p.arxivId, raw.id);
  }
});

test('property: never throws on arbitrary records', () => {
  const text = fc.option(fc.string({ maxLength: 40 }), { nil: null });
  const rawArb = fc.record({
    id: fc.oneof(fc.constantFrom('2106.09685', 'hep-th/9901001v2', 'beir:1'), fc.string({ maxLength: 20 })),
    title: text,
    abstract: text,
    comments: text,
    doi: text,
    license: text,
    authors: fc.option(fc.string({ maxLength: 40 }).map((value) => ({ kind: 'text' as const, value })), { nil: null }),
    categories: fc.option(fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }), { nil: null }),
    versions: fc.option(
      fc.array(fc.record({ version: fc.integer({ min: -1, max: 5 }), submittedAt: fc.oneof(fc.string(), fc.constant('2020-01-01T00:00:00Z')) }), {
        maxLength: 3,
      }),
      { nil: null },
    ),
    version: fc.option(fc.integer({ min: -2, max: 9 }), { nil: null }),
    publishedAt: text,
    updatedAt: text,
    announcedOn: text,
    withdrawn: fc.option(fc.boolean(), { nil: null }),
  });
  fc.assert(
    fc.property(rawArb, (raw) => {
      const r = normalizePaper(raw);
      if (!('error' in r)) {
        assert.ok(r.version >= 1);
        assert.ok(!Object.values(r).includes(undefined));
      }
    }),
    { numRuns: 2000 },
  );
});
