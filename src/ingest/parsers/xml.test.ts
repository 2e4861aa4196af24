// Shared streaming plumbing, plus the robustness properties both XML parsers
// must have (chunking independence, malformed input), run over the real files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { ParseItem, Parser } from '../record.js';
import { parseAtom } from './atom.js';
import { parseOaiPmh } from './oai.js';
import { idVersion, isoDateTime, looksLikeArxivId, streamXml } from './xml.js';
import type { XmlElement, XmlEvent } from './xml.js';
import { sharedData } from '../../../test/support/shared-data.js';
import { xmlFiles } from '../../../test/support/parsing.js';

const { dir: SHARED, skip: skipShared } = sharedData();


const ATOM_FILES = [
  ...xmlFiles(join(SHARED, 'arxiv/api-atom/arxiv.py-2016')),
  ...xmlFiles(join(SHARED, 'arxiv/api-atom/arxiv.py-2026/xml')),
];
const OAI_FILES = [...xmlFiles(join(SHARED, 'arxiv/oai-pmh/hepcrawl')), ...xmlFiles('test/fixtures/oai')];
const SUITES: { name: string; parser: Parser; files: string[]; closer: string }[] = [
  { name: 'atom', parser: parseAtom, files: ATOM_FILES, closer: '</feed>' },
  { name: 'oai', parser: parseOaiPmh, files: OAI_FILES, closer: '</OAI-PMH>' },
];

async function* chunks(parts: Iterable<string>): AsyncGenerator<string> {
  for (const p of parts) yield p;
}

/** Splits `s` at the given (sorted, deduplicated) offsets. */
function splitAt(s: string, cuts: number[]): string[] {
  const bounds = [...new Set(cuts.map((c) => Math.min(Math.max(c, 0), s.length)))].sort((a, b) => a - b);
  const out: string[] = [];
  let prev = 0;
  for (const b of bounds) {
    out.push(s.slice(prev, b));
    prev = b;
  }
  out.push(s.slice(prev));
  return out;
}

async function run(parser: Parser, parts: Iterable<string>): Promise<ParseItem[]> {
  const items: ParseItem[] = [];
  for await (const it of parser(chunks(parts))) items.push(it);
  return items;
}

async function events(parts: Iterable<string>, select: (depth: number, local: string) => boolean): Promise<XmlEvent[]> {
  const out: XmlEvent[] = [];
  for await (const ev of streamXml(chunks(parts), (anc, el) => select(anc.length, el.local))) out.push(ev);
  return out;
}

function assertItem(it: ParseItem): void {
  assert.ok(['paper', 'announcement', 'skip', 'error'].includes(it.kind), `bad kind ${it.kind}`);
  for (const n of [it.at.line, it.at.record]) {
    if (n !== undefined) assert.ok(Number.isInteger(n) && n >= 1, `bad position ${JSON.stringify(it.at)}`);
  }
  if (it.kind === 'paper') assert.ok(typeof it.paper.id === 'string' && it.paper.id.length > 0);
  if (it.kind === 'skip' || it.kind === 'error') assert.ok(it.reason.length > 0);
}

test('streamXml materialises selected subtrees with namespaces, attributes, text and lines', async () => {
  const xml = [
    '<root xmlns="urn:a" xmlns:b="urn:b">',
    '  <skip><rec>not selected: wrong depth</rec></skip>',
    '  <rec id="1" b:x="y">one <b:inner k="v">two</b:inner><![CDATA[ <three> ]]></rec>',
    '</root>',
  ].join('\n');
  const evs = await events([xml], (depth, local) => depth === 1 && local === 'rec');
  assert.deepEqual(
    evs.map((e) => e.type),
    ['root', 'element', 'end'],
  );
  const root = evs[0];
  assert.ok(root?.type === 'root');
  assert.deepEqual(root.name, { uri: 'urn:a', local: 'root', name: 'root' });
  const ev = evs[1];
  assert.ok(ev?.type === 'element');
  const rec: XmlElement = ev.el;
  assert.equal(rec.uri, 'urn:a');
  assert.equal(rec.local, 'rec');
  assert.equal(rec.line, 3);
  assert.deepEqual(rec.attrs, { id: '1', '{urn:b}x': 'y' });
  assert.equal(rec.text, 'one two <three> ');
  assert.equal(rec.children.length, 1);
  assert.deepEqual(
    { uri: rec.children[0]?.uri, local: rec.children[0]?.local, name: rec.children[0]?.name, attrs: rec.children[0]?.attrs },
    { uri: 'urn:b', local: 'inner', name: 'b:inner', attrs: { k: 'v' } },
  );
  assert.deepEqual(ev.path, [{ uri: 'urn:a', local: 'root' }]);
});

test('streamXml yields subtrees closed before a well-formedness error, then the error, then stops', async () => {
  const xml = '<r>\n<rec>1</rec>\n<rec>2</rec>\n<rec>3</oops>\n<rec>4</rec>\n</r>';
  for (const parts of [[xml], [...xml]]) {
    const evs = await events(parts, (depth, local) => depth === 1 && local === 'rec');
    assert.deepEqual(
      evs.map((e) => (e.type === 'element' ? e.el.text : e.type)),
      ['root', '1', '2', 'error'],
    );
    const err = evs[3];
    assert.ok(err?.type === 'error');
    assert.equal(err.line, 4);
    assert.match(err.reason, /not well-formed/);
  }
});

test('streamXml reports a truncated document and an empty one as errors', async () => {
  const trunc = await events(['<r><rec>1</rec><rec>'], (d, l) => d === 1 && l === 'rec');
  assert.deepEqual(
    trunc.map((e) => e.type),
    ['root', 'element', 'error'],
  );
  const empty = await events([], () => true);
  assert.deepEqual(
    empty.map((e) => e.type),
    ['error'],
  );
});

test('isoDateTime converts ISO-like dates to UTC and refuses the rest', () => {
  assert.equal(isoDateTime('2011-11-08T18:48:36Z'), '2011-11-08T18:48:36.000Z');
  assert.equal(isoDateTime(' 2016-10-09T00:00:00-04:00 '), '2016-10-09T04:00:00.000Z');
  assert.equal(isoDateTime('2014-01-09'), '2014-01-09T00:00:00.000Z');
  assert.equal(isoDateTime('2014-01-09T10:00:00'), '2014-01-09T10:00:00.000Z');
  assert.equal(isoDateTime('2021-02-30'), null);
  assert.equal(isoDateTime('Mon, 2 Apr 2007 19:18:42 GMT'), null);
  assert.equal(isoDateTime('2014-13-09T10:00:00Z'), null);
  assert.equal(isoDateTime(''), null);
  assert.equal(isoDateTime(null), null);
});

test('input that makes saxes throw (a lone surrogate after "<!") is a well-formedness error, not an exception', async () => {
  for (const parts of [['<!\ud800'], ['<', '!\ud800'], ['<feed><!\ud800']]) {
    const evs = await events(parts, () => true);
    assert.equal(evs.at(-1)?.type, 'error', JSON.stringify(parts));
    assert.match((evs.at(-1) as { reason: string }).reason, /XML not well-formed/);
  }
});

test('looksLikeArxivId and idVersion accept the id forms found in the files', () => {
  for (const id of [
    'http://arxiv.org/abs/1111.2011v2',
    'http://arxiv.org/abs/cond-mat/0607501v2',
    '0704.0001',
    'hep-th/9901001',
    'math.GT/0309136',
    'arXiv:2106.09685',
    '2106.09685v12',
  ]) {
    assert.ok(looksLikeArxivId(id), id);
  }
  for (const id of ['abc', '', '1111.2011v', 'http://arxiv.org/api/errors#x', '12345.678']) assert.ok(!looksLikeArxivId(id), id);
  assert.equal(idVersion('http://arxiv.org/abs/1111.2011v2'), 2);
  assert.equal(idVersion('http://arxiv.org/abs/cond-mat/0607501v12'), 12);
  assert.equal(idVersion('0704.0001'), null);
});

for (const suite of SUITES) {
  test(`${suite.name}: 1-byte and random-size chunks give the same items as one chunk`, { skip: skipShared, timeout: 120_000 }, async () => {
    assert.ok(suite.files.length > 0);
    for (const file of suite.files) {
      const text = readFileSync(file, 'utf8');
      const whole = await run(suite.parser, [text]);
      // Per-character chunks of a large file are slow; its head is representative.
      const head = text.length > 40_000 ? null : [...text];
      if (head !== null) assert.deepEqual(await run(suite.parser, head), whole, `${file}: 1-char chunks`);
      await fc.assert(
        fc.asyncProperty(fc.array(fc.nat({ max: text.length }), { maxLength: 40 }), async (cuts) => {
          assert.deepEqual(await run(suite.parser, splitAt(text, cuts)), whole);
        }),
        { numRuns: 10 },
      );
    }
  });

  test(`${suite.name}: arbitrary strings never throw and yield only ParseItems`, { timeout: 120_000 }, async () => {
    const xmlish = fc.string({
      unit: fc.constantFrom('<', '>', '/', '&', ';', '"', '=', ' ', '\n', 'a', ':', '?', '!', '[', 'amp', 'entry', 'record', 'feed', 'OAI-PMH', '\u00e9', '\ud800'),
      maxLength: 200,
    });
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ unit: 'binary' }), xmlish), fc.array(fc.nat(), { maxLength: 5 }), async (s, cuts) => {
        const items = await run(suite.parser, splitAt(s, cuts));
        items.forEach(assertItem);
      }),
      { numRuns: 300 },
    );
  });

  test(`${suite.name}: a truncated real file yields the records complete before the cut, then an error`, { skip: skipShared, timeout: 120_000 }, async () => {
    const texts = suite.files.map((f) => readFileSync(f, 'utf8'));
    const fulls = await Promise.all(texts.map((t) => run(suite.parser, [t])));
    const recordTag = suite.name === 'atom' ? '</entry>' : '</record>';
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: texts.length - 1 }), fc.double({ min: 0, max: 1, noNaN: true }), async (i, frac) => {
        const text = texts[i] ?? '';
        const full = fulls[i] ?? [];
        // Cut strictly before the root's end tag so the document is incomplete.
        const cut = Math.floor(frac * text.lastIndexOf(suite.closer));
        const truncated = text.slice(0, cut);
        let complete = 0;
        for (let at = truncated.indexOf(recordTag); at !== -1; at = truncated.indexOf(recordTag, at + 1)) complete += 1;
        const items = await run(suite.parser, splitAt(truncated, [Math.floor(cut / 3), Math.floor(cut / 2)]));
        assert.deepEqual(items.slice(0, complete), full.slice(0, complete));
        assert.equal(items.length, complete + 1, `cut at ${cut}`);
        assert.equal(items[complete]?.kind, 'error');
      }),
      { numRuns: 200 },
    );
  });

  test(`${suite.name}: random byte mutations of real files never throw`, { skip: skipShared, timeout: 120_000 }, async () => {
    const buffers = suite.files.map((f) => readFileSync(f));
    const mutation = fc.record({ pos: fc.nat(), byte: fc.integer({ min: 0, max: 255 }), op: fc.constantFrom('set', 'insert', 'delete') });
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: buffers.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (i, muts, cuts) => {
          let bytes = Buffer.from(buffers[i] ?? Buffer.alloc(0));
          for (const m of muts) {
            const pos = bytes.length === 0 ? 0 : m.pos % bytes.length;
            if (m.op === 'set' && bytes.length > 0) bytes[pos] = m.byte;
            else if (m.op === 'insert') bytes = Buffer.concat([bytes.subarray(0, pos), Buffer.from([m.byte]), bytes.subarray(pos)]);
            else bytes = Buffer.concat([bytes.subarray(0, pos), bytes.subarray(pos + 1)]);
          }
          const text = bytes.toString('utf8');
          const items = await run(suite.parser, splitAt(text, cuts.map((c) => c % (text.length + 1))));
          items.forEach(assertItem);
        },
      ),
      { numRuns: 300 },
    );
  });
}
