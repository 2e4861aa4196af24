/**
 * The one way Paperboy sends email.
 *
 * Transactional mail (`send`: confirmations, sign-in links, notifications) is
 * written to the outbox table first; with SMTP_URL set it is then sent over
 * SMTP (nodemailer) and marked sent, or its error kept. Without SMTP the
 * outbox is where mail ends up, and admins read it at /admin/outbox (a
 * first-run instance can still verify its first accounts).
 *
 * Bulk mail (`deliver`: digests) keeps its own ledger (digest_deliveries), so
 * it is not logged to the outbox when it goes over SMTP: it goes through a
 * pooled connection, one message at a time, and a failure is thrown as a
 * MailDeliveryError saying whether a retry may succeed. Without SMTP it lands
 * in the outbox like everything else.
 *
 * Every message is DKIM-signed when a key is configured.
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import nodemailer, { type SendMailOptions, type Transporter } from 'nodemailer';
import SMTPPool from 'nodemailer/lib/smtp-pool/index.js';
import type { Config } from '../config.js';
import type { AppContext } from '../context.js';
import type { Database } from '../db/connection.js';
import type { Logger } from '../log.js';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
  /** What the message is for, for the outbox ('verify', 'login', 'mention', ...). */
  kind: string;
  headers?: Record<string, string>;
}

/** A message of a mailing (a digest): its sender, ids and list headers are the caller's. */
export interface BulkMessage {
  to: string;
  from: string;
  replyTo?: string;
  subject: string;
  text: string;
  html: string;
  /** Extra headers (List-Unsubscribe, List-Id, ...). */
  headers: Record<string, string>;
  /** The Message-ID, with its angle brackets: stable, so a resend is recognisably the same message. */
  messageId: string;
  /** For the outbox ('digest'). */
  kind: string;
}

/** Why a bulk message was not accepted; `temporary` when trying again later may succeed. */
export class MailDeliveryError extends Error {
  readonly temporary: boolean;
  /** The server's answer (or the transport's error), for the ledger. */
  readonly response: string;

  constructor(message: string, options: { temporary: boolean; response: string; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = 'MailDeliveryError';
    this.temporary = options.temporary;
    this.response = options.response;
  }
}

/**
 * Transport failures that say nothing about the recipient: the connection, the
 * network or the session broke, so the same message may go through later.
 */
const TEMPORARY_CODES = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'EDNS',
  'ETLS',
  'EAUTH',
  'EPROTOCOL',
  'EMAXLIMIT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** Failures of the message itself that no retry fixes (an unusable address, a message too large). */
const PERMANENT_CODES = new Set(['EENVELOPE', 'EMESSAGE']);

/**
 * Commands whose refusal is about the session, not the message: a 5xx there
 * (a greeting "554 no service", a failed login) would fail every recipient of
 * a run for a server or configuration problem, so it is retried instead.
 */
const SESSION_COMMAND = /^(CONN|EHLO|HELO|LHLO|STARTTLS|AUTH)\b/;

function field(err: unknown, name: string): unknown {
  return typeof err === 'object' && err !== null && name in err ? (err as Record<string, unknown>)[name] : undefined;
}

/**
 * Classifies a nodemailer error: SMTP 4xx, timeouts and connection errors are
 * temporary; a 5xx answer to the message (MAIL FROM, RCPT TO, DATA) and an
 * invalid envelope or message are permanent. An error of unknown shape counts
 * as temporary: the retry limit still ends it, and a wrongly permanent
 * failure would drop a message for good.
 */
export function classifyMailError(err: unknown): MailDeliveryError {
  if (err instanceof MailDeliveryError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const code = field(err, 'code');
  const command = field(err, 'command');
  const responseCode = field(err, 'responseCode');
  const response = field(err, 'response');
  const answer = (typeof response === 'string' && response !== '' ? response : message).slice(0, 1000);
  let temporary: boolean;
  if (typeof responseCode === 'number' && responseCode >= 400 && responseCode < 600) {
    const sessionLevel = code === 'EAUTH' || (typeof command === 'string' && SESSION_COMMAND.test(command));
    temporary = responseCode < 500 || sessionLevel;
  } else if (typeof code === 'string' && TEMPORARY_CODES.has(code)) {
    temporary = true;
  } else if (typeof code === 'string' && PERMANENT_CODES.has(code)) {
    temporary = false;
  } else {
    temporary = true;
  }
  return new MailDeliveryError(message, { temporary, response: answer, cause: err });
}

export interface Mailer {
  /** Stores and (with SMTP) sends `message`; resolves to the outbox id. Never throws for a delivery failure. */
  send(message: MailMessage): Promise<{ id: number; sent: boolean }>;
  /**
   * Sends one bulk message and resolves once the server accepted it (or, without
   * SMTP, once it is in the outbox); throws MailDeliveryError when it was not.
   */
  deliver(message: BulkMessage): Promise<void>;
  /** Closes the pooled bulk connection; a later `deliver` opens a new one. */
  close(): void;
}

/**
 * Options for the bulk pool, unless SMTP_URL sets them (its parameters win):
 * one connection (one message in flight, so a crash leaves at most one in
 * doubt), reused for many messages; a connection that closes mid-message
 * fails that message (the ledger retries it) instead of nodemailer re-sending
 * it behind the ledger's back; and a stalled server fails a send well before
 * a digest lease (5 min) runs out.
 */
const POOL_DEFAULTS = {
  pool: true,
  maxConnections: 1,
  maxMessages: 1_000,
  maxRequeues: 0,
  socketTimeout: 60_000,
  greetingTimeout: 30_000,
  connectionTimeout: 30_000,
} as const;

/**
 * Opens the pool's TCP connections with Nagle's algorithm off. nodemailer
 * writes a message in several small pieces and then waits for the answer;
 * with Nagle on, the last piece waits for the acknowledgement of the one
 * before, which the server delays (40 ms on Linux): one message per 40 ms,
 * whatever the server's speed. TLS (smtps, STARTTLS) runs over this socket.
 */
function noDelaySocket(options: SMTPPool.Options, callback: (err: Error | null, socketOptions?: { connection: Socket }) => void): void {
  const port = Number(options.port) || (options.secure === true ? 465 : 587);
  const socket = connect({ host: options.host ?? 'localhost', port });
  socket.setNoDelay(true);
  socket.setTimeout(options.connectionTimeout ?? POOL_DEFAULTS.connectionTimeout);
  const fail = (err: Error): void => {
    socket.destroy();
    callback(err);
  };
  const timeout = (): void => fail(Object.assign(new Error('Connection timeout'), { code: 'ETIMEDOUT' }));
  socket.once('error', fail);
  socket.once('timeout', timeout);
  socket.once('connect', () => {
    socket.off('error', fail);
    socket.off('timeout', timeout);
    socket.setTimeout(0);
    callback(null, { connection: socket });
  });
}

function bulkTransport(smtpUrl: string): Transporter {
  return nodemailer.createTransport(new SMTPPool({ ...POOL_DEFAULTS, url: smtpUrl, getSocket: noDelaySocket }));
}

/**
 * Headers a DKIM signature covers: nodemailer's default list (RFC 6376
 * section 5.4) and List-Unsubscribe-Post, which RFC 8058 requires signed
 * along with List-Unsubscribe (mailbox providers ignore one-click otherwise).
 */
const SIGNED_HEADERS = [
  'From', 'Sender', 'Reply-To', 'Subject', 'Date', 'Message-ID', 'To', 'Cc', 'MIME-Version', 'Content-Type',
  'Content-Transfer-Encoding', 'Content-ID', 'Content-Description', 'Resent-Date', 'Resent-From', 'Resent-Sender',
  'Resent-To', 'Resent-Cc', 'Resent-Message-ID', 'In-Reply-To', 'References', 'List-Id', 'List-Help',
  'List-Unsubscribe', 'List-Unsubscribe-Post', 'List-Subscribe', 'List-Post', 'List-Owner', 'List-Archive',
].join(':');

type MailerConfig = Pick<Config, 'smtpUrl' | 'mailFrom' | 'mailReplyTo' | 'dkim'>;

export function createMailer(config: MailerConfig, database: Database, log: Logger): Mailer {
  let transactional: Transporter | undefined;
  let pool: Transporter | undefined;
  let dkim: SendMailOptions['dkim'];

  // Read once per mailer: a run of many thousand messages signs with the key it started with.
  const signing = (): SendMailOptions['dkim'] => {
    if (config.dkim === undefined) return undefined;
    dkim ??= {
      domainName: config.dkim.domainName,
      keySelector: config.dkim.keySelector,
      privateKey: readFileSync(config.dkim.privateKeyFile, 'utf8'),
      headerFieldNames: SIGNED_HEADERS,
    };
    return dkim;
  };

  const outbox = (message: { to: string; subject: string; text: string; html?: string; kind: string }) =>
    database.db
      .insertInto('outbox')
      .values({
        recipient: message.to,
        subject: message.subject,
        text_body: message.text,
        html_body: message.html ?? null,
        kind: message.kind,
        created_at: new Date().toISOString(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();

  return {
    async send(message) {
      const row = await outbox(message);
      if (config.smtpUrl === undefined) return { id: row.id, sent: false };
      try {
        transactional ??= nodemailer.createTransport(config.smtpUrl);
        await transactional.sendMail({
          from: config.mailFrom,
          replyTo: config.mailReplyTo,
          to: message.to,
          subject: message.subject,
          text: message.text,
          html: message.html,
          headers: message.headers,
          dkim: signing(),
        });
        await database.db.updateTable('outbox').set({ sent_at: new Date().toISOString() }).where('id', '=', row.id).execute();
        return { id: row.id, sent: true };
      } catch (err) {
        // The address is personal data; the outbox id says which message failed.
        log.warn({ err, outboxId: row.id, kind: message.kind }, 'sending an email failed');
        const error = err instanceof Error ? err.message : String(err);
        await database.db.updateTable('outbox').set({ error: error.slice(0, 1000) }).where('id', '=', row.id).execute();
        return { id: row.id, sent: false };
      }
    },

    async deliver(message) {
      if (config.smtpUrl === undefined) {
        await outbox(message);
        return;
      }
      try {
        pool ??= bulkTransport(config.smtpUrl);
        await pool.sendMail({
          from: message.from,
          replyTo: message.replyTo,
          to: message.to,
          subject: message.subject,
          text: message.text,
          html: message.html,
          headers: message.headers,
          messageId: message.messageId,
          // Named rather than detected: nodemailer's detection scans every part and
          // doubles the cost of building a digest; quoted-printable suits any text.
          textEncoding: 'quoted-printable',
          dkim: signing(),
        });
      } catch (err) {
        throw classifyMailError(err);
      }
    },

    close() {
      pool?.close();
      pool = undefined;
      transactional?.close();
      transactional = undefined;
    },
  };
}

const mailers = new WeakMap<AppContext, Mailer>();

/** The mailer of `ctx`, made on first use. */
export function mailerFor(ctx: AppContext): Mailer {
  let mailer = mailers.get(ctx);
  if (mailer === undefined) {
    mailer = createMailer(ctx.config, ctx.database, ctx.log);
    mailers.set(ctx, mailer);
  }
  return mailer;
}
