import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LineSplitter, jsonLines, lines, type JsonLine, type Line } from './lines.js';
import { chunks } from '../../../test/support/parsing.js';


async function* pieces(parts: string[]): AsyncGenerator<string> {
  yield* parts;
}

async function all<T>(gen: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of gen) out.push(x);
  return out;
}

test('splits on \\n and \\r\\n, numbers lines from 1, keeps a last line without newline', async () => {
  const got = await all(lines(chunks('a\r\nb\n\nc\r\n d ', 3)));
  assert.deepEqual(got, [
    { text: 'a', line: 1 },
    { text: 'b', line: 2 },
    { text: '', line: 3 },
    { text: 'c', line: 4 },
    { text: ' d ', line: 5 },
  ]);
  assert.deepEqual(await all(lines(chunks('x\n', 1))), [{ text: 'x', line: 1 }]);
  assert.deepEqual(await all(lines(chunks('', 1))), []);
});

test('\\r\\n split across chunks and a leading BOM', async () => {
  assert.deepEqual(await all(lines(pieces(['\uFEFFab\r', '\ncd\r', '\n']))), [
    { text: 'ab', line: 1 },
    { text: 'cd', line: 2 },
  ]);
});

test('any chunking gives the same lines as the whole text', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.string({ unit: fc.constantFrom('a', 'b', '\n', '\r', ' ', 'é', '{'), maxLength: 200 }),
      fc.integer({ min: 1, max: 17 }),
      async (text, size) => {
        assert.deepEqual(await all(lines(chunks(text, size))), await all(lines(pieces([text]))));
      },
    ),
  );
});

test('an overlong line is cut and flagged, and the next line is intact', () => {
  const s = new LineSplitter(10);
  const out: Line[] = [...s.push('0123456789abc'), ...s.push('def'), ...s.push('ghi\nok\n'), ...s.end()];
  assert.deepEqual(out, [
    { text: '0123456789', line: 1, overflow: true },
    { text: 'ok', line: 2 },
  ]);
  const t = new LineSplitter(4);
  assert.deepEqual([...t.push('abcdefgh\nxy'), ...t.end()], [
    { text: 'abcd', line: 1, overflow: true },
    { text: 'xy', line: 2 },
  ]);
});

test('jsonLines: values with their line numbers, blank lines skipped, bad lines reported', async () => {
  const got = await all(jsonLines(chunks('{"a":1}\n\n  \nnot json\r\n[2]\n{"b":', 4)));
  assert.equal(got.length, 4);
  assert.deepEqual(got[0], { ok: true, value: { a: 1 }, line: 1 });
  const bad = got[1] as JsonLine & { ok: false };
  assert.equal(bad.ok, false);
  assert.equal(bad.line, 4);
  assert.match(bad.reason, /^invalid JSON/);
  assert.deepEqual(got[2], { ok: true, value: [2], line: 5 });
  assert.equal(got[3]?.ok, false);
  assert.equal(got[3]?.line, 6);
});
