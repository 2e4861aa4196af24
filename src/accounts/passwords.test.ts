import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, passwordProblem, verifyPassword } from './passwords.js';

test('a hash verifies its password only, and differs per salt', async () => {
  const hash = await hashPassword('correct horse battery staple');
  assert.match(hash, /^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  assert.equal(await verifyPassword('correct horse battery staple', hash), true);
  assert.equal(await verifyPassword('correct horse battery stapl', hash), false);
  assert.notEqual(await hashPassword('correct horse battery staple'), hash);
});

test('unicode passwords are compared in one normal form', async () => {
  const composed = 'caf\u00e9 au lait';
  const decomposed = 'cafe\u0301 au lait';
  assert.equal(await verifyPassword(decomposed, await hashPassword(composed)), true);
});

test('no password (a link-only account) or a malformed hash never verifies, and still costs a hash', async () => {
  const started = performance.now();
  assert.equal(await verifyPassword('anything at all', null), false);
  assert.equal(await verifyPassword('anything at all', 'md5$abc'), false);
  // The decoy hash is real scrypt work (tens of ms), so the answer time does not reveal the account.
  assert.ok(performance.now() - started > 10);
});

test('password rules: length only, long passphrases, no common passwords', () => {
  assert.match(passwordProblem('short') ?? '', /at least 8/);
  assert.equal(passwordProblem('eightchr'), null);
  assert.equal(passwordProblem('a'.repeat(1024)), null);
  assert.match(passwordProblem('a'.repeat(1025)) ?? '', /at most 1024/);
  assert.match(passwordProblem('Password123') ?? '', /most common/);
  assert.match(passwordProblem('qwertyuiop') ?? '', /most common/);
  // Characters, not UTF-16 units: 8 emoji are 8 characters.
  assert.equal(passwordProblem('🔑'.repeat(8)), null);
});
