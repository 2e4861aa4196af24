import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { detectFormat, listInputFiles, openTextFile, PARSERS, sniffFormat } from './detect.js';
import type { FormatName, ParseItem } from './record.js';
import { sharedData } from '../../test/support/shared-data.js';

const { dir: SHARED, skip } = sharedData();
const ARXIV = join(SHARED, 'arxiv');
const ABS = join(ARXIV, 'abs/arxiv-browse/abs_files');

/** What every file under shared/data/arxiv is, by where it lives. */
function expectedFormat(rel: string): FormatName | null {
  if (rel.endsWith('ftp/math-ph/papers/0509/0509037.abs')) return null; // empty
  if (/(^|\/)LICENSE/.test(rel) || rel.endsWith('.xsd')) return null;
  if (rel.startsWith('kaggle-jsonl/')) return 'kaggle-jsonl';
  if (rel.startsWith('abs/')) return 'abs';
  if (rel.startsWith('oai-pmh/')) return 'oai-pmh';
  if (rel.startsWith('api-atom/') && rel.endsWith('.xml')) return 'atom';
  if (rel.endsWith('arXiv_metadata.sanitized.jsonl')) return 'db-export-metadata';
  if (rel.endsWith('arXiv_next_mail.jsonl')) return 'db-export-next-mail';
  if (rel.endsWith('arXiv_document_category.jsonl')) return 'db-export-categories';
  if (rel.endsWith('arXiv_updates.jsonl')) return 'db-export-updates';
  return null; // api-atom raw-json responses, taxonomy JSON/TSV
}

/** Every file, including those listInputFiles skips (LICENSE, .xsd). */
function allFilesUnder(dir: string): string[] {
  const walk = (d: string): string[] =>
    readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : [join(d, n)]));
  return walk(dir).sort();
}

test('detectFormat recognises every file under shared/data/arxiv', { skip, timeout: 120_000 }, async () => {
  const files = allFilesUnder(ARXIV);
  assert.ok(files.length > 1290);
  const counts: Record<string, number> = {};
  for (const f of files) {
    const rel = relative(ARXIV, f);
    const d = await detectFormat(f);
    const want = expectedFormat(rel);
    assert.equal(d.format, want, `${rel}: ${d.format === null ? d.reason : d.format}`);
    if (d.format !== null) assert.equal(d.parser, PARSERS[d.format]);
    counts[String(d.format)] = (counts[String(d.format)] ?? 0) + 1;
  }
  assert.deepEqual(counts, {
    abs: 1215,
    atom: 25,
    'db-export-categories': 1,
    'db-export-metadata': 1,
    'db-export-next-mail': 1,
    'db-export-updates': 1,
    'kaggle-jsonl': 1,
    'oai-pmh': 15,
    null: files.length - 1260,
  });
  const empty = await detectFormat(join(ABS, 'ftp/math-ph/papers/0509/0509037.abs'));
  assert.deepEqual(empty, { format: null, reason: 'empty file' });
  const rawJson = await detectFormat(join(ARXIV, 'api-atom/arxiv.py-2026/raw-json/id_abc_s0_m100_b79c8dcf6bc3.json'));
  assert.deepEqual(rawJson, { format: null, reason: 'a JSON document, not JSON lines' });
});

test('BEIR corpus (gzipped) and the BEIR queries file', { skip }, async () => {
  assert.equal((await detectFormat(join(SHARED, 'beir-scifact/corpus.jsonl.gz'))).format, 'beir-corpus');
  assert.deepEqual(await detectFormat(join(SHARED, 'beir-scifact/queries-train.jsonl')), {
    format: null,
    reason: 'a BEIR queries file, not a corpus',
  });
});

const SAMPLES: [string, FormatName][] = [
  ['kaggle-jsonl/wanng-ide_arxivSpider_mnbvc/arxiv-metadata-oai-snapshot.head200.jsonl', 'kaggle-jsonl'],
  ['abs/arxiv-browse/abs_files/ftp/arxiv/papers/0704/0704.0001.abs', 'abs'],
  ['abs/arxiv-browse/abs_files/ftp/astro-ph/listings/0001', 'abs'],
  ['abs/arxiv-browse/abs_files/ftp/q-fin/listings/new', 'abs'],
  ['db-export/arXiv-oaipmh-browse.db/arXiv_metadata.sanitized.jsonl', 'db-export-metadata'],
  ['db-export/arXiv-oaipmh-browse.db/arXiv_next_mail.jsonl', 'db-export-next-mail'],
  ['db-export/arXiv-oaipmh-browse.db/arXiv_document_category.jsonl', 'db-export-categories'],
  ['db-export/arXiv-oaipmh-browse.db/arXiv_updates.jsonl', 'db-export-updates'],
  ['oai-pmh/hepcrawl/unit__responses__arxiv__sample_arxiv_record0.xml', 'oai-pmh'],
  ['api-atom/arxiv.py-2016/id_list=1111.2011v2.xml', 'atom'],
];

test('gzipped copies under any name: same format, same text', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'paperboy-detect-'));
  try {
    for (const [i, [rel, format]] of SAMPLES.entries()) {
      const original = readFileSync(join(ARXIV, rel));
      for (const name of [`f${i}`, `f${i}.txt.gz`, `f${i}.json`]) {
        const path = join(dir, name);
        writeFileSync(path, gzipSync(original));
        assert.equal((await detectFormat(path)).format, format, `${rel} as ${name}`);
      }
      let text = '';
      let bytes = 0;
      for await (const s of await openTextFile(join(dir, `f${i}`), (n) => (bytes = n))) text += s;
      assert.equal(text, original.toString('utf8'), rel);
      assert.equal(bytes, gzipSync(original).length);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('garbage is rejected with a human reason', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'paperboy-garbage-'));
  const put = (name: string, data: string | Buffer): string => {
    writeFileSync(join(dir, name), data);
    return join(dir, name);
  };
  try {
    const random = Buffer.alloc(4096);
    for (let i = 0; i < random.length; i++) random[i] = (i * 7919 + 13) % 256;
    const cases: [string, string | Buffer, RegExp][] = [
      ['empty', '', /^empty file$/],
      ['blank', '\n\n   \n', /^empty file$/],
      ['binary', random, /^binary data$/],
      ['png', Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), random]), /^binary data$/],
      ['prose', 'Dear reader,\nthis is not arXiv metadata.\n', /^not a recognised arXiv metadata format$/],
      ['html', '<!DOCTYPE html>\n<html><head><title>arXiv</title></head></html>', /HTML page/],
      ['html2', '<html lang="en"><body>\\\\\narXiv:0704.0001</body></html>', /HTML page/],
      ['rss', '<?xml version="1.0"?>\n<rss version="2.0"><channel/></rss>', /root <rss>/],
      ['feed-not-atom', '<feed xmlns="urn:other"></feed>', /root <feed>/],
      ['json-doc', '{\n  "id": "0704.0001"\n}\n', /JSON document/],
      ['json-other', '{"title":"x","abstract":"y"}\n', /keys title, abstract/],
      ['json-arrays', '[1]\n[2]\n', /not objects/],
      ['csv', 'id,title\n0704.0001,x\n', /not a recognised/],
      ['bad-gzip', Buffer.from([0x1f, 0x8b, 0x08, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9]), /unreadable data/],
      ['gzip-of-binary', gzipSync(random), /^binary data$/],
      ['gzip-empty', gzipSync(Buffer.alloc(0)), /^empty file$/],
    ];
    for (const [name, data, reason] of cases) {
      const d = await detectFormat(put(name, data));
      assert.equal(d.format, null, name);
      assert.match(d.format === null ? d.reason : '', reason, name);
    }
    // A truncated gzip still shows its start.
    const kaggleLine = '{"id":"0704.0001","versions":[]}\n'.repeat(2000);
    const gz = gzipSync(kaggleLine);
    assert.equal((await detectFormat(put('cut.gz', gz.subarray(0, gz.length - 20)))).format, 'kaggle-jsonl');
    // A file may begin with dashes and blank lines; CRLF line ends are fine.
    assert.equal(sniffFormat(Buffer.from('-----\r\n\r\n\\\\\r\narXiv:0704.0001\r\nTitle: x\r\n\\\\\r\n'), false), 'abs');
    assert.equal(sniffFormat(Buffer.from('\uFEFF{"_id":"1","title":"","text":"t"}\n'), false), 'beir-corpus');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('openTextFile keeps multi-byte characters split across read chunks, and fails on a missing file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'paperboy-utf8-'));
  try {
    const text = '€'.repeat(400_000) + '\n';
    writeFileSync(join(dir, 'euro'), text);
    writeFileSync(join(dir, 'euro.gz'), gzipSync(text));
    for (const name of ['euro', 'euro.gz']) {
      let got = '';
      for await (const s of await openTextFile(join(dir, name))) got += s;
      assert.equal(got, text, name);
    }
    // Mixed ASCII, multi-byte and invalid bytes over several 1 MB reads decode as in one piece.
    const parts: Buffer[] = [];
    for (let i = 0; i < 240_000; i++) {
      parts.push(Buffer.from(i % 3 === 0 ? 'plain ascii line\n' : i % 3 === 1 ? 'Schrödinger – 𝔽 € \uFEFF' : 'x'));
      if (i % 997 === 0) parts.push(Buffer.from([0xe2, 0x82])); // a truncated character
      if (i % 1499 === 0) parts.push(Buffer.from([0xff, 0x80]));
    }
    const mixed = Buffer.concat(parts);
    assert.ok(mixed.length > 2 * 1024 * 1024);
    writeFileSync(join(dir, 'mixed'), mixed);
    let decoded = '';
    for await (const s of await openTextFile(join(dir, 'mixed'))) decoded += s;
    assert.equal(decoded, new TextDecoder('utf-8', { ignoreBOM: true }).decode(mixed));
    await assert.rejects(openTextFile(join(dir, 'missing')), /ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('listInputFiles: recursive, sorted, skips hidden/licence/readme/provenance/xsd/md/txt, errors name the path', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'paperboy-list-'));
  try {
    mkdirSync(join(dir, 'b/sub'), { recursive: true });
    mkdirSync(join(dir, 'a'));
    mkdirSync(join(dir, '.hidden'));
    for (const f of ['b/z.jsonl', 'b/sub/y.abs', 'a/x.xml', 'a/LICENSE', 'a/LICENSE.txt', 'README.md', 'PROVENANCE.tsv', 'notes.txt', 'schema.xsd', '.DS_Store', '.hidden/h.jsonl', 'B.jsonl', 'a/0001']) {
      writeFileSync(join(dir, f), 'x');
    }
    symlinkSync(dir, join(dir, 'b/loop'));
    assert.deepEqual(
      (await listInputFiles([dir])).map((f) => relative(dir, f)),
      ['B.jsonl', 'a/0001', 'a/x.xml', 'b/sub/y.abs', 'b/z.jsonl'],
    );
    // Named files are kept even when a directory walk would skip them; duplicates collapse.
    assert.deepEqual(
      (await listInputFiles([join(dir, 'notes.txt'), join(dir, 'a'), join(dir, 'a/x.xml')])).map((f) => relative(dir, f)),
      ['notes.txt', 'a/0001', 'a/x.xml'],
    );
    const missing = join(dir, 'nope.jsonl');
    await assert.rejects(listInputFiles([missing]), (err: Error) => err.message.includes(missing) && /no such file/.test(err.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('listInputFiles on the shared abs folder', { skip }, async () => {
  const files = await listInputFiles([join(ABS, '..')]);
  assert.equal(files.length, 1192 + 24);
  assert.ok(!files.some((f) => f.endsWith('LICENSE')));
  assert.deepEqual(files, [...files].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
});

// ---- robustness of this module's parsers: any input gives only ParseItems, never a throw ----

const MY_FORMATS: FormatName[] = [
  'abs',
  'kaggle-jsonl',
  'db-export-metadata',
  'db-export-next-mail',
  'db-export-categories',
  'db-export-updates',
  'beir-corpus',
];
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

function checkItem(it: ParseItem): void {
  const line = it.at.line;
  assert.ok(line === undefined || (Number.isInteger(line) && line >= 1), `bad position ${JSON.stringify(it.at)}`);
  switch (it.kind) {
    case 'paper': {
      const p = it.paper;
      assert.ok(typeof p.id === 'string' && p.id.trim() !== '' && p.id === p.id.trim(), `bad id ${JSON.stringify(p.id)}`);
      for (const k of ['title', 'abstract', 'comments', 'journalRef', 'doi', 'reportNo', 'mscClass', 'acmClass', 'license', 'submitter'] as const) {
        const v = p[k];
        assert.ok(v === undefined || v === null || (typeof v === 'string' && v !== '' && v === v.trim()), `${k}: ${JSON.stringify(v)}`);
      }
      if (p.submitter) assert.ok(!p.submitter.includes('<'), 'submitter keeps no address');
      if (p.categories) assert.ok(p.categories.every((c) => c !== '' && !/\s/.test(c)));
      if (p.versions) {
        for (const v of p.versions) assert.ok(Number.isInteger(v.version) && v.version >= 1 && ISO.test(v.submittedAt));
      }
      if (p.authors) assert.ok(p.authors.kind !== 'text' || p.authors.value.trim() !== '');
      if (p.announcedOn) assert.match(p.announcedOn, /^\d{4}-\d\d-\d\d$/);
      if (p.updatedAt) assert.ok(ISO.test(p.updatedAt) || /^\d{4}-\d\d-\d\d$/.test(p.updatedAt));
      break;
    }
    case 'announcement':
      assert.ok(it.announcement.id !== '' && it.announcement.version >= 1);
      assert.match(it.announcement.announcedOn, /^\d{4}-\d\d-\d\d$/);
      assert.ok(['new', 'cross', 'replace'].includes(it.announcement.type));
      break;
    case 'skip':
    case 'error':
      assert.ok(typeof it.reason === 'string' && it.reason !== '');
      break;
    default:
      assert.fail(`unknown item ${JSON.stringify(it)}`);
  }
}

async function* split(text: string, cuts: number[]): AsyncGenerator<string> {
  let at = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    const to = Math.min(text.length, c);
    if (to > at) yield text.slice(at, to);
    at = Math.max(at, to);
  }
  if (at < text.length) yield text.slice(at);
}

async function run(format: FormatName, text: string, cuts: number[] = []): Promise<ParseItem[]> {
  const out: ParseItem[] = [];
  for await (const it of PARSERS[format](split(text, cuts))) {
    checkItem(it);
    out.push(it);
  }
  return out;
}

const FUZZ_SAMPLES: [string, FormatName, number][] = [
  // file, format, lines kept (small inputs keep the runs fast)
  ['kaggle-jsonl/wanng-ide_arxivSpider_mnbvc/arxiv-metadata-oai-snapshot.head200.jsonl', 'kaggle-jsonl', 8],
  ['abs/arxiv-browse/abs_files/ftp/arxiv/papers/0704/0704.0001.abs', 'abs', 1000],
  ['abs/arxiv-browse/abs_files/ftp/q-fin/listings/new.MF', 'abs', 1000],
  ['abs/arxiv-browse/abs_files/ftp/math-ph/listings/9701', 'abs', 80],
  ['db-export/arXiv-oaipmh-browse.db/arXiv_metadata.sanitized.jsonl', 'db-export-metadata', 8],
  ['db-export/arXiv-oaipmh-browse.db/arXiv_next_mail.jsonl', 'db-export-next-mail', 40],
  ['db-export/arXiv-oaipmh-browse.db/arXiv_document_category.jsonl', 'db-export-categories', 10],
  ['db-export/arXiv-oaipmh-browse.db/arXiv_updates.jsonl', 'db-export-updates', 10],
  ['../beir-scifact/corpus.jsonl.gz', 'beir-corpus', 8],
];

function sample(rel: string, lines: number): string {
  const raw = readFileSync(join(ARXIV, rel));
  return (rel.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8').split('\n').slice(0, lines).join('\n');
}

/** Whole lines of the formats' grammars, so random sequences of them form (broken) records. */
const TOKENS = [
  '\n',
  '\r\n',
  '\\\\\n',
  '\\\\ ( https://arxiv.org/abs/1 , 1kb)\n',
  '----------------------------------------\n',
  '%-%-%-%-\n',
  '%%--%%--\n',
  '%%%---%%%---\n',
  'arXiv:0704.0001\n',
  'Paper (*cross-listing*): hep-th/9901001\n',
  'arXiv:2303.08477 (*cross-listing*)\n',
  'Date: Fri, 17 Mar 23 00:51:30 GMT\n',
  'Date: Mon, 2 Apr 2007 19:18:42 GMT   (1kb)\n',
  'Date (revised v2): Tue, 24 Jul 2007 20:10:27 GMT   (370kb)\n',
  'Date (revised): Wed, 12 Mar 1997 14:43:13 GMT\n',
  'replaced with revised version Thu, 8 Jun 2023 08:03:26 GMT   (25kb,D)\n',
  'From: A <a@b.c>\n',
  'Title: A title\n',
  'Authors: A and B\n',
  'Categories: hep-th math.AG\n',
  '  continued\n',
  '  Abstract text.\n',
  '{"id":"x","versions":[{"version":"v1","created":"Mon, 2 Apr 2007 19:18:42 GMT"}]}\n',
  '{"_id":1,"title":"","text":"T."}\n',
  '{"paper_id":"1","version":1,"created":"2007-04-01 16:37:36","title":"a\\\\"}\n',
  '{"paper_id":"1","version":1,"type":"new","mail_id":"110203"}\n',
  '{"document_id":1,"is_primary":1}\n',
  '{',
  '"id":',
  '\uFEFF',
];

test('fuzz: arbitrary and grammar-shaped text never throws and yields only ParseItems', { timeout: 120_000 }, async () => {
  const text = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.array(fc.oneof({ arbitrary: fc.constantFrom(...TOKENS), weight: 12 }, { arbitrary: fc.string({ maxLength: 8 }), weight: 1 }), { maxLength: 60 }).map((a) => a.join('')),
  );
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...MY_FORMATS), text, fc.array(fc.nat(400), { maxLength: 6 }), async (format, t, cuts) => {
      await run(format, t, cuts);
    }),
    { numRuns: 2000 },
  );
});

test('fuzz: truncated and byte-mutated real files never throw', { skip, timeout: 180_000 }, async () => {
  const samples = FUZZ_SAMPLES.map(([rel, format, lines]) => ({ format, bytes: Buffer.from(sample(rel, lines)) }));
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...samples),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 255 })), { maxLength: 12 }),
      async ({ format, bytes }, cut, mutations) => {
        const b = Buffer.from(bytes.subarray(0, Math.floor(bytes.length * cut)));
        for (const [where, value] of mutations) if (b.length > 0) b[Math.min(b.length - 1, Math.floor(where * b.length))] = value;
        await run(format, b.toString('utf8'));
      },
    ),
    { numRuns: 1000 },
  );
});

test('chunking independence: any split of a real file gives the same items', { skip, timeout: 120_000 }, async () => {
  const samples = FUZZ_SAMPLES.map(([rel, format, lines]) => ({ format, text: sample(rel, lines) }));
  const whole = new Map<string, ParseItem[]>();
  for (const s of samples) whole.set(s.text, await run(s.format, s.text));
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...samples), fc.array(fc.nat(20_000), { maxLength: 40 }), async (s, cuts) => {
      assert.deepEqual(await run(s.format, s.text, cuts), whole.get(s.text));
    }),
    { numRuns: 300 },
  );
});
