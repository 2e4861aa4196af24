import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isOldStyleId, parseArxivId } from './arxiv-id.js';

// Any code points, lone surrogates included (fast-check's 'binary' unit is much slower).
const anyString = (maxLength: number): fc.Arbitrary<string> =>
  fc.oneof(
    fc.array(fc.integer({ min: 0, max: 0x10ffff }), { maxLength }).map((cps) => String.fromCodePoint(...cps)),
    fc.string({ unit: 'grapheme', maxLength }),
  );

test('new-style ids in every notation', () => {
  const cases: [string, string, number | null][] = [
    ['2106.09685', '2106.09685', null],
    ['0704.0001', '0704.0001', null],
    ['1412.9999v2', '1412.9999', 2],
    ['2106.09685v3', '2106.09685', 3],
    ['  arXiv:2106.09685v1 \n', '2106.09685', 1],
    ['arxiv:2106.09685', '2106.09685', null],
    ['ARXIV:2106.09685', '2106.09685', null],
    ['https://arxiv.org/abs/2106.09685', '2106.09685', null],
    ['https://arxiv.org/abs/2106.09685v2', '2106.09685', 2],
    ['http://arxiv.org/pdf/2106.09685v2.pdf', '2106.09685', 2],
    ['http://arxiv.org/pdf/2106.09685', '2106.09685', null],
    ['https://www.arxiv.org/abs/2106.09685/', '2106.09685', null],
    ['http://export.arxiv.org/abs/1707.08567v1', '1707.08567', 1],
    ['arxiv.org/abs/2106.09685', '2106.09685', null],
    ['oai:arXiv.org:0704.0001', '0704.0001', null],
    ['2106.09685V2', '2106.09685', 2],
  ];
  for (const [input, id, version] of cases) {
    assert.deepEqual(parseArxivId(input), { id, version }, input);
  }
});

test('old-style ids keep the archive and drop the subject class', () => {
  const cases: [string, string, number | null][] = [
    ['hep-th/9901001', 'hep-th/9901001', null],
    ['hep-th/9901001v2', 'hep-th/9901001', 2],
    ['math.AG/0601001', 'math/0601001', null],
    ['math.AG/0601001v1', 'math/0601001', 1],
    ['arXiv:cond-mat/0211034', 'cond-mat/0211034', null],
    ['oai:arXiv.org:quant-ph/0201082', 'quant-ph/0201082', null],
    ['https://arxiv.org/abs/astro-ph/0601001v1', 'astro-ph/0601001', 1],
    ['http://arxiv.org/pdf/physics.optics/0601001v1.pdf', 'physics/0601001', 1],
    ['funct-an/9301001', 'funct-an/9301001', null],
  ];
  for (const [input, id, version] of cases) {
    assert.deepEqual(parseArxivId(input), { id, version }, input);
  }
});

test('external namespace:localid ids pass through unchanged', () => {
  assert.deepEqual(parseArxivId('beir:4983'), { id: 'beir:4983', version: null });
  assert.deepEqual(parseArxivId(' scifact:31715818 '), { id: 'scifact:31715818', version: null });
  assert.deepEqual(parseArxivId('my-corpus:Doc_1.2-a'), { id: 'my-corpus:Doc_1.2-a', version: null });
});

test('everything else is rejected', () => {
  for (const bad of [
    '',
    '   ',
    'abc',
    '2106.0968', // four digits after 2015
    '1412.09685', // five digits before 2015
    '0703.0001', // before the new scheme
    '2113.00001', // month 13
    '2106.09685v0',
    '2106.09685v',
    'hep-th/9913001',
    'hep-th/990100',
    'arXiv:foo', // an arxiv: prefix is never an external id
    'arxiv:beir:1',
    'oai:arXiv.org:nonsense',
    'Beir:1',
    'beir:',
    'beir:a/b',
    `beir:${'x'.repeat(129)}`,
    'http://example.com/abs/2106.09685',
    'https://arxiv.org/abs/',
    '2106.09685.pdf',
    'doi:10.1103/PhysRevD.76.013009',
  ]) {
    assert.equal(parseArxivId(bad), null, bad);
  }
});

test('isOldStyleId', () => {
  assert.equal(isOldStyleId('hep-th/9901001'), true);
  assert.equal(isOldStyleId('math/0601001'), true);
  assert.equal(isOldStyleId('2106.09685'), false);
  assert.equal(isOldStyleId('math.AG/0601001'), false);
  assert.equal(isOldStyleId('beir:1'), false);
});

test('property: generated new-style ids survive every prefix and version', () => {
  const idArb = fc
    .tuple(fc.integer({ min: 7, max: 99 }), fc.integer({ min: 1, max: 12 }), fc.nat({ max: 99_999 }))
    .filter(([yy, mm]) => yy > 7 || mm >= 4)
    .map(([yy, mm, n]) => {
      const digits = yy >= 15 ? 5 : 4;
      const num = String(n % 10 ** digits).padStart(digits, '0');
      return `${String(yy).padStart(2, '0')}${String(mm).padStart(2, '0')}.${num}`;
    });
  const prefixArb = fc.constantFrom('', 'arXiv:', 'arxiv:', 'https://arxiv.org/abs/', 'http://arxiv.org/pdf/', 'oai:arXiv.org:');
  fc.assert(
    fc.property(idArb, prefixArb, fc.option(fc.integer({ min: 1, max: 30 }), { nil: null }), (id, prefix, v) => {
      const input = `${prefix}${id}${v === null ? '' : `v${v}`}`;
      assert.deepEqual(parseArxivId(input), { id, version: v });
    }),
  );
});

test('property: never throws, and a parsed id parses to itself', () => {
  fc.assert(
    fc.property(anyString(60), (s) => {
      const r = parseArxivId(s);
      if (r !== null) assert.deepEqual(parseArxivId(r.id), { id: r.id, version: null });
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(
      fc.string({ unit: fc.constantFrom('1', '0', '.', 'v', 'a', ':', '/', '-', 'h', 'arXiv:', 'hep-th/', '2106.'), maxLength: 12 }),
      (s) => {
        const r = parseArxivId(s);
        if (r !== null) assert.equal(parseArxivId(r.id)?.id, r.id);
      },
    ),
    { numRuns: 2000 },
  );
});
