import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { openTestDatabase } from '../../test/support/database.js';
import { startSmtpServer } from '../../test/support/smtp-server.js';
import { createLogger } from '../log.js';
import { MailDeliveryError, classifyMailError, createMailer, type BulkMessage } from './mailer.js';

/** An error shaped as nodemailer's SMTP client makes them. */
function smtpError(message: string, fields: { code?: string; responseCode?: number; command?: string; response?: string }): Error {
  return Object.assign(new Error(message), fields);
}

test('SMTP 4xx answers, timeouts and connection failures are temporary; 5xx answers to the message are permanent', () => {
  const temporary = [
    smtpError('Message failed: 451 4.3.0 Try later', { code: 'EMESSAGE', responseCode: 451, command: 'DATA', response: '451 4.3.0 Try later' }),
    smtpError("Can't send mail - all recipients were rejected: 452 4.2.2 Mailbox full", { code: 'EENVELOPE', responseCode: 452, command: 'RCPT TO', response: '452 4.2.2 Mailbox full' }),
    smtpError('Connection timeout', { code: 'ETIMEDOUT', command: 'CONN' }),
    smtpError('connect ECONNREFUSED 127.0.0.1:25', { code: 'ECONNREFUSED' }),
    smtpError('Connection closed unexpectedly', { code: 'ECONNECTION', command: 'CONN' }),
    smtpError('read ECONNRESET', { code: 'ECONNRESET' }),
    smtpError('getaddrinfo EAI_AGAIN mail.example.org', { code: 'EDNS' }),
    // A refusal of the session, not of this message: every recipient would fail for it.
    smtpError('Invalid login: 535 5.7.8 Bad credentials', { code: 'EAUTH', responseCode: 535, command: 'AUTH PLAIN', response: '535 5.7.8 Bad credentials' }),
    smtpError('Greeting: 554 no service', { code: 'EPROTOCOL', responseCode: 554, command: 'CONN', response: '554 no service' }),
    new Error('Reached maximum number of retries after connection was closed'),
  ];
  for (const err of temporary) assert.equal(classifyMailError(err).temporary, true, err.message);

  const permanent = [
    smtpError("Can't send mail - all recipients were rejected: 550 5.1.1 No such user", { code: 'EENVELOPE', responseCode: 550, command: 'RCPT TO', response: '550 5.1.1 No such user' }),
    smtpError('Message failed: 554 5.7.1 Rejected as spam', { code: 'EMESSAGE', responseCode: 554, command: 'DATA', response: '554 5.7.1 Rejected as spam' }),
    smtpError('Mail command failed: 553 5.1.8 Sender domain not found', { code: 'EENVELOPE', responseCode: 553, command: 'MAIL FROM', response: '553 5.1.8 Sender domain not found' }),
    smtpError('Invalid recipient "not an address"', { code: 'EENVELOPE', command: 'API' }),
    smtpError('Message size larger than allowed 1000', { code: 'EMESSAGE', command: 'MAIL FROM' }),
  ];
  for (const err of permanent) assert.equal(classifyMailError(err).temporary, false, err.message);

  const classified = classifyMailError(permanent[0]);
  assert.ok(classified instanceof MailDeliveryError);
  assert.equal(classified.response, '550 5.1.1 No such user', 'the server answer, for the ledger');
  assert.equal(classified.cause, permanent[0]);
  assert.equal(classifyMailError(temporary[2]).response, 'Connection timeout', 'no answer: the error message');
  assert.equal(classifyMailError(classified), classified);
});

const MESSAGE: BulkMessage = {
  to: 'reader@example.org',
  from: 'Paperboy digest <digest@paperboy.test>',
  subject: 'Trending papers',
  text: 'Hello',
  html: '<p>Hello</p>',
  headers: { 'List-Id': 'Paperboy digest <digest.paperboy.test>' },
  messageId: '<digest-1-1@paperboy.test>',
  kind: 'digest',
};

test('deliver throws MailDeliveryError with the real server answer or connection error', async () => {
  const database = await openTestDatabase();
  const smtp = await startSmtpServer({
    rcpt: (to) => (to.startsWith('gone@') ? { code: 550, message: '5.1.1 No such user' } : to.startsWith('full@') ? { code: 452, message: '4.2.2 Mailbox full' } : undefined),
  });
  // A port nothing listens on.
  const closed = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
  const log = createLogger('silent');
  const mailer = createMailer({ smtpUrl: smtp.url, mailFrom: 'x@paperboy.test', mailReplyTo: undefined, dkim: undefined }, database, log);
  const unreachable = createMailer({ smtpUrl: `smtp://127.0.0.1:${closed}`, mailFrom: 'x@paperboy.test', mailReplyTo: undefined, dkim: undefined }, database, log);
  try {
    await mailer.deliver(MESSAGE);
    assert.equal(smtp.received.length, 1);
    const failure = async (promise: Promise<void>): Promise<MailDeliveryError> => {
      const err: unknown = await promise.then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof MailDeliveryError, String(err));
      return err;
    };
    const gone = await failure(mailer.deliver({ ...MESSAGE, to: 'gone@example.org' }));
    assert.equal(gone.temporary, false);
    assert.match(gone.response, /^550 5\.1\.1 No such user/);
    const full = await failure(mailer.deliver({ ...MESSAGE, to: 'full@example.org' }));
    assert.equal(full.temporary, true);
    assert.match(full.response, /^452 4\.2\.2 Mailbox full/);
    const refused = await failure(unreachable.deliver(MESSAGE));
    assert.equal(refused.temporary, true);
    assert.match(refused.response, /ECONNREFUSED/);
    // The pool recovers after failures: the next message goes through.
    await mailer.deliver({ ...MESSAGE, to: 'again@example.org' });
    assert.deepEqual(smtp.received.map((m) => m.to.join()), ['reader@example.org', 'again@example.org']);
    // Over SMTP, digests are not copied to the outbox (their ledger is digest_deliveries).
    assert.equal((await database.db.selectFrom('outbox').select('id').execute()).length, 0);
  } finally {
    mailer.close();
    unreachable.close();
    await smtp.close();
    await database.close();
  }
});
