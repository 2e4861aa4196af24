import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { eligibilityProblem, firstVersionAt, parseSubmission } from './submissions.js';

test('ids and arXiv URLs people paste name the canonical id', () => {
  const cases: [string, string][] = [
    ['2401.01234', '2401.01234'],
    ['2401.01234v3', '2401.01234'],
    ['  2401.01234v1\n', '2401.01234'],
    ['arXiv:2401.01234', '2401.01234'],
    ['hep-th/9901001', 'hep-th/9901001'],
    ['hep-th/9901001v2', 'hep-th/9901001'],
    ['math.AG/0601001', 'math/0601001'],
    ['https://arxiv.org/abs/2401.01234', '2401.01234'],
    ['http://arxiv.org/abs/2401.01234v2', '2401.01234'],
    ['https://arxiv.org/pdf/2401.01234', '2401.01234'],
    ['https://arxiv.org/pdf/2401.01234v2.pdf', '2401.01234'],
    ['https://export.arxiv.org/abs/2401.01234', '2401.01234'],
    ['http://export.arxiv.org/abs/hep-th/9901001v1', 'hep-th/9901001'],
    ['https://www.arxiv.org/abs/2401.01234/', '2401.01234'],
    ['arxiv.org/abs/2401.01234', '2401.01234'],
    ['https://arxiv.org/abs/2401.01234?context=cs.LG', '2401.01234'],
    ['https://arxiv.org/abs/2401.01234v2#S3', '2401.01234'],
  ];
  for (const [input, id] of cases) assert.deepEqual(parseSubmission(input), { id }, input);
});

test('anything else is refused with a message that shows the input and what would work', () => {
  for (const input of [
    '',
    '   ',
    'attention is all you need',
    '2401.1234',
    '2413.01234',
    'https://example.org/abs/2401.01234',
    'https://arxiv.org/list/cs.LG/recent',
    'beir:12345',
    'arXiv:beir:1',
    'hep-th/99010',
  ]) {
    const result = parseSubmission(input);
    assert.ok('problem' in result, `${JSON.stringify(input)} should be refused`);
    assert.match(result.problem, /2401\.01234/, 'names an example');
    if (input.trim() !== '') assert.ok(result.problem.includes(input.trim()), 'quotes the input');
  }
  const long = parseSubmission('x'.repeat(5000));
  assert.ok('problem' in long && long.problem.length < 400, 'a long input is cut in the message');
});

test('parsing never throws, and an accepted input is an arXiv id', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 120 }), (input) => {
      const result = parseSubmission(input);
      if ('id' in result) assert.ok(!result.id.includes(':') && /^(?:\d{4}\.\d{4,5}|[a-z-]+\/\d{7})$/.test(result.id), result.id);
    }),
  );
});

const NOW = new Date('2026-05-20T12:00:00Z');
const paper = (publishedAt: string | null, versions: string[] = [], withdrawn = false) => ({
  arxivId: '2605.01234',
  publishedAt,
  withdrawn,
  versions: versions.map((submittedAt, i) => ({ version: i + 1, submittedAt, size: null })),
});

test('the first version is the earliest date on record', () => {
  assert.equal(firstVersionAt(paper('2026-05-10T09:00:00Z', ['2026-05-10T09:00:00Z', '2026-05-18T09:00:00Z']))?.toISOString(), '2026-05-10T09:00:00.000Z');
  // A record whose published date is the latest version's still counts from v1.
  assert.equal(firstVersionAt(paper('2026-05-18T09:00:00Z', ['2026-04-01T09:00:00Z', '2026-05-18T09:00:00Z']))?.toISOString(), '2026-04-01T09:00:00.000Z');
  assert.equal(firstVersionAt(paper(null, ['2026-05-01T00:00:00Z']))?.toISOString(), '2026-05-01T00:00:00.000Z');
  assert.equal(firstVersionAt(paper(null)), null);
  assert.equal(firstVersionAt(paper('not a date')), null);
});

test('within the window a paper may be submitted; after it the message says the limit and the date', () => {
  assert.equal(eligibilityProblem(paper('2026-05-19T12:00:00Z'), 14, NOW), null);
  assert.equal(eligibilityProblem(paper('2026-05-06T12:00:00Z'), 14, NOW), null, 'exactly 14 days is still within');
  const old = eligibilityProblem(paper('2026-05-06T11:59:59Z'), 14, NOW);
  assert.equal(old, 'Papers can be submitted within 14 days of their first version; arXiv:2605.01234 was first submitted on 2026-05-06, 14 days ago.');
  const older = eligibilityProblem(paper('2026-05-15T00:00:00Z', ['2025-01-02T00:00:00Z']), 30, NOW);
  assert.match(older ?? '', /within 30 days .*first submitted on 2025-01-02, 503 days ago/);
  assert.match(eligibilityProblem(paper(null), 14, NOW) ?? '', /within 14 days .* has no date for its first version/);
  assert.match(eligibilityProblem(paper('2026-05-19T12:00:00Z', [], true), 14, NOW) ?? '', /withdrawn/);
  assert.match(eligibilityProblem(paper('2026-05-18T12:00:00Z'), 1, NOW) ?? '', /within 1 day of/);
});
