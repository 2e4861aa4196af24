import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addDays, HarvestArgumentError, isIsoDate, oaiSetsForCategories, validateWindow } from './oai-harvester.js';

test('categories map to the OAI sets arXiv serves: groups, and archives within physics', () => {
  assert.deepEqual(oaiSetsForCategories(['cs.AI', 'cs.CL', 'cs.CV', 'cs.LG', 'stat.ML']), ['cs', 'stat']);
  assert.deepEqual(oaiSetsForCategories(['hep-th', 'hep-ph', 'astro-ph.CO', 'cond-mat.str-el', 'quant-ph']), [
    'physics:hep-th',
    'physics:hep-ph',
    'physics:astro-ph',
    'physics:cond-mat',
    'physics:quant-ph',
  ]);
  assert.deepEqual(oaiSetsForCategories(['math.AG', 'nlin.CD', 'q-bio.NC', 'q-fin.ST', 'eess.SP', 'econ.EM']), [
    'math',
    'physics:nlin',
    'q-bio',
    'q-fin',
    'eess',
    'econ',
  ]);
  // Aliases follow their canonical category (math.MP is math-ph, a physics archive).
  assert.deepEqual(oaiSetsForCategories(['math.MP']), ['physics:math-ph']);
  // Physics' own archive, and a retired archive via the category that took it over.
  assert.deepEqual(oaiSetsForCategories(['physics.optics', 'alg-geom']), ['physics:physics', 'math']);
  assert.deepEqual(oaiSetsForCategories([]), []);
});

test('dates must be real calendar days written YYYY-MM-DD', () => {
  assert.equal(isIsoDate('2024-02-29'), true);
  assert.equal(isIsoDate('2023-02-29'), false);
  assert.equal(isIsoDate('2024-13-01'), false);
  assert.equal(isIsoDate('2024-1-01'), false);
  assert.equal(isIsoDate('yesterday'), false);
  assert.equal(addDays('2024-02-28', 1), '2024-02-29');
  assert.equal(addDays('2024-03-01', -1), '2024-02-29');
  assert.equal(addDays('2023-12-31', 1), '2024-01-01');
});

test('a window whose end comes before its start is refused with a clear message', () => {
  assert.doesNotThrow(() => validateWindow('2024-01-01', '2024-01-01'));
  assert.doesNotThrow(() => validateWindow(null, undefined));
  assert.throws(() => validateWindow('2024-01-02', '2024-01-01'), (err: unknown) => {
    assert.ok(err instanceof HarvestArgumentError);
    assert.equal(err.message, '--until (2024-01-01) is before --from (2024-01-02)');
    return true;
  });
  assert.throws(() => validateWindow('2024-02-30', null), /--from must be a date written YYYY-MM-DD, got "2024-02-30"/);
});
