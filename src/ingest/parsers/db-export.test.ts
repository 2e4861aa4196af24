import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { ParseItem, RawAnnouncement, RawPaper } from '../record.js';
import {
  mailIdToDate,
  parseDbCategories,
  parseDbMetadata,
  parseDbNextMail,
  parseDbUpdates,
  unescapeMysql,
} from './db-export.js';
import { sharedData } from '../../../test/support/shared-data.js';
import { parseText } from '../../../test/support/parsing.js';

const { dir: SHARED, skip } = sharedData();
const DB = `${SHARED}/arxiv/db-export/arXiv-oaipmh-browse.db`;


const parse = parseText;

const read = (name: string): string => readFileSync(`${DB}/${name}`, 'utf8');

function paperAt(items: ParseItem[], line: number): RawPaper {
  const it = items.find((i) => i.at.line === line);
  assert.equal(it?.kind, 'paper');
  return (it as { paper: RawPaper }).paper;
}

test('arXiv_metadata: 1,041 version rows of 509 papers, no errors', { skip }, async () => {
  const items = await parse(parseDbMetadata, read('arXiv_metadata.sanitized.jsonl'));
  assert.equal(items.length, 1041);
  assert.ok(items.every((it) => it.kind === 'paper'));
  const ps = items.map((it) => (it as { paper: RawPaper }).paper);
  assert.equal(new Set(ps.map((p) => p.id)).size, 509);
  assert.equal(ps.filter((p) => p.withdrawn === true).length, 11);
  assert.ok(ps.every((p) => p.versions?.length === 1 && p.versions[0]?.version === p.version));
});

test('arXiv_metadata: sampled rows', { skip }, async () => {
  const items = await parse(parseDbMetadata, read('arXiv_metadata.sanitized.jsonl'));
  const first = paperAt(items, 1);
  assert.deepEqual(
    { ...first, abstract: first.abstract?.slice(0, 46) },
    {
      id: '0704.0046',
      version: 1,
      versions: [{ version: 1, submittedAt: '2007-04-01T16:37:36.000Z' }],
      title: 'A limit relation for entropy and channel capacity per unit cost',
      abstract: 'In a quantum mechanical model, Diosi, Feldmann',
      authors: { kind: 'text', value: 'I. Csiszar, F. Hiai and D. Petz' },
      categories: ['quant-ph', 'cs.IT', 'math.IT'],
      comments: 'LATEX file, 11 pages',
      journalRef: 'J. Math. Phys. 48(2007), 092102.',
      doi: '10.1063/1.2779138',
      reportNo: null,
      mscClass: null,
      acmClass: null,
      license: null,
      submitter: 'Denes Petz',
      withdrawn: false,
    },
  );

  // The export escapes backslashes MySQL-style: `{\\it` in the row is `{\it` on arXiv.
  const weder = paperAt(items, 2);
  assert.equal(weder.id, '0704.0248');
  assert.ok(weder.abstract?.includes('anisotropic {\\it transformation media} whose'));
  assert.ok(weder.abstract?.includes("We write Maxwell's equations in Schr\\\"odinger form"));
  const chatterjee = paperAt(items, 265);
  assert.equal(chatterjee.title, 'Probabilistic methods for discrete nonlinear Schr\\"odinger equations');
  assert.equal(chatterjee.version, 2);

  const mokhov = paperAt(items, 77);
  assert.equal(mokhov.id, '0907.2974');
  assert.equal(mokhov.acmClass, 'H.3.5; C.2.4; D.1.3');
  assert.equal(mokhov.license, 'http://creativecommons.org/licenses/by/3.0/');
  assert.deepEqual(mokhov.versions, [{ version: 2, submittedAt: '2009-07-20T19:59:35.000Z' }]);

  const vdl = paperAt(items, 97);
  assert.equal(vdl.id, '0908.3762');
  assert.equal(vdl.mscClass, '17A32; 18B99; 18E99; 18G50; 20J05');
  assert.equal(vdl.reportNo, 'Pre-Publicacoes DMUC 09-10');
  assert.deepEqual(vdl.categories, ['math.AT', 'math.CT']);

  const withdrawn = paperAt(items, 461);
  assert.equal(withdrawn.id, '1101.2736');
  assert.equal(withdrawn.version, 2);
  assert.equal(withdrawn.withdrawn, true);
  assert.equal(withdrawn.comments, 'This paper has been withdrawn');
  assert.equal(withdrawn.abstract, 'This paper has been withdrawn by the author due to an error on the  modulation.');
});

test('arXiv_next_mail: 434 announcements and 61 journal-ref rows skipped', { skip }, async () => {
  const items = await parse(parseDbNextMail, read('arXiv_next_mail.jsonl'));
  assert.equal(items.length, 495);
  const anns = items.filter((it) => it.kind === 'announcement').map((it) => (it as { announcement: RawAnnouncement }).announcement);
  const skips = items.filter((it) => it.kind === 'skip');
  assert.equal(anns.length, 434);
  assert.equal(skips.length, 61);
  const byType = { new: 0, cross: 0, replace: 0 };
  for (const a of anns) byType[a.type]++;
  // 136 `rep` and 8 `wdr` (withdrawals are announced as replacements).
  assert.deepEqual(byType, { new: 278, cross: 12, replace: 144 });
  assert.ok(anns.every((a) => a.announcedOn === '2011-02-03'));
  assert.deepEqual(items[0], {
    kind: 'announcement',
    announcement: { id: '1102.0278', version: 1, type: 'new', announcedOn: '2011-02-03' },
    at: { line: 1 },
  });
  assert.deepEqual(items[29], {
    kind: 'skip',
    reason: 'mail row jref for 1009.0928v2: a journal-ref update announces no version',
    at: { line: 30 },
  });
  assert.deepEqual(items.at(-1), {
    kind: 'announcement',
    announcement: { id: '0911.5351', version: 2, type: 'replace', announcedOn: '2011-02-03' },
    at: { line: 495 },
  });
});

test('document-keyed tables: one skip per row, with the reason', { skip }, async () => {
  const cats = await parse(parseDbCategories, read('arXiv_document_category.jsonl'));
  assert.equal(cats.length, 37);
  assert.ok(cats.every((it) => it.kind === 'skip'));
  assert.deepEqual(cats[0], {
    kind: 'skip',
    reason: 'category row for document 1: categories are taken from arXiv_metadata',
    at: { line: 1 },
  });
  const ups = await parse(parseDbUpdates, read('arXiv_updates.jsonl'));
  assert.equal(ups.length, 38);
  assert.ok(ups.every((it) => it.kind === 'skip'));
  assert.match((ups[0] as { reason: string }).reason, /^update row \(replace\) for document 494428: /);
});

test('1-byte chunks give the same items', { skip }, async () => {
  const text = read('arXiv_metadata.sanitized.jsonl').split('\n').slice(0, 30).join('\n');
  assert.deepEqual(await parse(parseDbMetadata, text, 1), await parse(parseDbMetadata, text));
  const mail = read('arXiv_next_mail.jsonl');
  assert.deepEqual(await parse(parseDbNextMail, mail, 1), await parse(parseDbNextMail, mail));
});

test('malformed rows are errors naming the field', async () => {
  const meta = await parse(
    parseDbMetadata,
    [
      '{"paper_id":"0704.0001","version":"1","created":"2007-04-01 16:37:36"}',
      '{"paper_id":"0704.0001","version":1,"created":"yesterday"}',
      '{"paper_id":"0704.0001","version":1,"created":"2007-04-01 16:37:36","title":5}',
      '{"version":1,"created":"2007-04-01 16:37:36"}',
      '{"paper_id":"0704.0001","version":1,"created":"2007-04-01 16:37:36","is_withdrawn":2}',
      '"just a string"',
      '{"paper_id":"0704.0001","version":1,"created":"2007-04-01 16:37:36"}',
    ].join('\n'),
  );
  const reasons = meta.map((it) => (it.kind === 'error' ? it.reason : it.kind));
  assert.match(reasons[0] ?? '', /^version:/);
  assert.match(reasons[1] ?? '', /^created: unparseable date "yesterday"/);
  assert.match(reasons[2] ?? '', /^title: expected string, got number/);
  assert.match(reasons[3] ?? '', /^paper_id: missing/);
  assert.match(reasons[4] ?? '', /^is_withdrawn:/);
  assert.match(reasons[5] ?? '', /^row: expected object, got string/);
  assert.equal(reasons[6], 'paper');

  const mail = await parse(
    parseDbNextMail,
    [
      '{"paper_id":"1102.0278","version":1,"type":"new","mail_id":"1102"}',
      '{"paper_id":"1102.0278","version":1,"type":"odd","mail_id":"110203"}',
      '{"paper_id":"1102.0278","version":0,"type":"new","mail_id":"110203"}',
      '{"paper_id":"1102.0278","version":1,"type":"new","mail_id":"110231"}',
    ].join('\n'),
  );
  const mr = mail.map((it) => (it.kind === 'error' ? it.reason : it.kind));
  assert.match(mr[0] ?? '', /^mail_id:/);
  assert.match(mr[1] ?? '', /^type: unknown mail type "odd"/);
  assert.match(mr[2] ?? '', /^version:/);
  assert.match(mr[3] ?? '', /^mail_id:/);

  const cats = await parse(parseDbCategories, '{"category":"math.CO"}\n[1]\n');
  assert.deepEqual(
    cats.map((it) => it.kind),
    ['error', 'error'],
  );
});

test('unescapeMysql and mailIdToDate', () => {
  assert.equal(unescapeMysql('{\\\\it x} Schr\\\\\\"odinger \\"q\\" a\\nb \\\\\'e'), '{\\it x} Schr\\"odinger "q" a\nb \\\'e');
  assert.equal(unescapeMysql('$\\alpha$'), '$\\alpha$');
  assert.equal(mailIdToDate('110203'), '2011-02-03');
  assert.equal(mailIdToDate('990101'), '1999-01-01');
  assert.equal(mailIdToDate('110230'), null);
  assert.equal(mailIdToDate('1102'), null);
});
