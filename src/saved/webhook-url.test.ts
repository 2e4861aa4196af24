import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { checkWebhookUrl, isPrivateAddress } from './webhook-url.js';
import { verifyWebhookSignature, webhookBody, webhookSignature } from './webhooks.js';

test('private, loopback and link-local addresses are recognised, in every spelling', () => {
  for (const a of ['127.0.0.1', '10.0.0.5', '172.16.3.4', '192.168.0.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fd00::2', '::ffff:127.0.0.1', '::ffff:7f00:1', '64:ff9b::a9fe:a9fe']) {
    assert.equal(isPrivateAddress(a), true, a);
  }
  for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8']) assert.equal(isPrivateAddress(a), false, a);
});

test('webhook URLs: http(s) only, no credentials, no private hosts unless allowed', () => {
  assert.ok(checkWebhookUrl('https://hooks.slack.com/services/T/B/X', false).ok);
  assert.ok(!checkWebhookUrl('ftp://example.org/', false).ok);
  assert.ok(!checkWebhookUrl('https://user:pw@example.org/', false).ok);
  assert.ok(!checkWebhookUrl('http://localhost:8080/', false).ok);
  assert.ok(!checkWebhookUrl('http://[::1]/', false).ok);
  assert.ok(checkWebhookUrl('http://127.0.0.1:8080/', true).ok);
});

test('a signature verifies with its secret and body only, and not when stale', () => {
  const body = webhookBody({ id: 1, name: 'a <b> & c', url: 'https://x/saved/1' }, [{ arxivId: '2401.00001', title: 'T', authors: 'A', url: 'https://x/papers/2401.00001' }], 1);
  assert.match(JSON.parse(body).text as string, /1 new paper matches your saved search “a <b> & c”/);
  const now = 1_700_000_000;
  const signature = webhookSignature('whsec_s', now, body);
  assert.ok(verifyWebhookSignature('whsec_s', { signature, timestamp: String(now) }, body, now + 10));
  assert.ok(!verifyWebhookSignature('whsec_t', { signature, timestamp: String(now) }, body, now));
  assert.ok(!verifyWebhookSignature('whsec_s', { signature, timestamp: String(now) }, `${body} `, now));
  assert.ok(!verifyWebhookSignature('whsec_s', { signature, timestamp: String(now) }, body, now + 3600));
});
