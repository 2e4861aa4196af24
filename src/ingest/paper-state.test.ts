import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { normalizePaper, type NormalizedPaper } from '../papers/normalize.js';
import { hashState, mergeState, stateFromIncoming, type PaperState } from './paper-state.js';
import type { RawPaper } from './record.js';

function paper(raw: Partial<RawPaper>): NormalizedPaper {
  const p = normalizePaper({ id: '2101.00001', title: 'A title', ...raw });
  if ('error' in p) throw new Error(p.error);
  return p;
}

const v1 = { version: 1, submittedAt: '2021-01-01T10:00:00.000Z' };
const v2 = { version: 2, submittedAt: '2021-02-01T10:00:00.000Z' };

test('a newer version replaces fields and keeps the version history', () => {
  const stored = stateFromIncoming(paper({ title: 'Old', comments: '10 pages', versions: [v1] }));
  const merged = mergeState(stored, paper({ title: 'New', comments: null, versions: [v1, v2] }));
  assert.equal(merged.title, 'New');
  assert.equal(merged.version, 2);
  assert.deepEqual(
    merged.versions.map((v) => v.version),
    [1, 2],
  );
  assert.equal(merged.publishedAt, v1.submittedAt);
  assert.equal(merged.updatedAt, v2.submittedAt);
  assert.equal(merged.comments, '10 pages', 'a source that does not know a field never erases it');
});

test('an older version adds history but changes no field', () => {
  const stored = stateFromIncoming(paper({ title: 'Current', versions: [v2], version: 2 }));
  const merged = mergeState(stored, paper({ title: 'First draft', versions: [v1] }));
  assert.equal(merged.title, 'Current');
  assert.deepEqual(
    merged.versions.map((v) => v.version),
    [1, 2],
  );
});

test('the same version only fills what is missing', () => {
  const stored = stateFromIncoming(paper({ title: 'Listing title', abstract: null, versions: [v1] }));
  const merged = mergeState(stored, paper({ title: 'Other spelling', abstract: 'An abstract.', doi: '10.1/x', versions: [v1] }));
  assert.equal(merged.title, 'Listing title');
  assert.equal(merged.abstract, 'An abstract.');
  assert.equal(merged.doi, '10.1/x');
});

test('an explicit announcement day replaces the estimate and is kept', () => {
  const stored = stateFromIncoming(paper({ versions: [v1] }));
  assert.equal(stored.announcedEstimated, true);
  const announced = mergeState(stored, paper({ versions: [v1], announcedOn: '2021-01-05' }));
  assert.equal(announced.announcedOn, '2021-01-05');
  assert.equal(announced.announcedEstimated, false);
  const again = mergeState(announced, paper({ versions: [v1, v2], title: 'v2' }));
  assert.equal(again.announcedOn, '2021-01-05');
});

test('re-applying records already merged changes nothing, in any order', () => {
  const raw = fc.record({
    title: fc.constantFrom('T1', 'T2', 'T3'),
    abstract: fc.option(fc.constantFrom('A1', 'A2'), { nil: null }),
    comments: fc.option(fc.constantFrom('c1', 'c2'), { nil: null }),
    doi: fc.option(fc.constantFrom('10.1/a', '10.1/b'), { nil: null }),
    versions: fc.subarray([v1, v2], { minLength: 1 }),
  });
  fc.assert(
    fc.property(fc.array(raw, { minLength: 1, maxLength: 5 }), (raws) => {
      const papers = raws.map((r) => paper(r));
      let state: PaperState = stateFromIncoming(papers[0]!);
      for (const p of papers.slice(1)) state = mergeState(state, p);
      const hash = hashState(state);
      let again = state;
      for (const p of papers) again = mergeState(again, p);
      assert.equal(hashState(again), hash);
    }),
  );
});
