/**
 * The one way Paperboy sends email. Every message is written to the outbox
 * table first; with SMTP_URL set it is then sent over SMTP (nodemailer) and
 * marked sent, or its error kept. Without SMTP the outbox is where mail ends
 * up, and admins read it at /admin/outbox (a first-run instance can still
 * verify its first accounts).
 */
import nodemailer, { type Transporter } from 'nodemailer';
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

export interface Mailer {
  /** Stores and (with SMTP) sends `message`; resolves to the outbox id. Never throws for a delivery failure. */
  send(message: MailMessage): Promise<{ id: number; sent: boolean }>;
  close(): void;
}

const transports = new Map<string, Transporter>();

function transportFor(url: string): Transporter {
  let transport = transports.get(url);
  if (transport === undefined) {
    transport = nodemailer.createTransport(url);
    transports.set(url, transport);
  }
  return transport;
}

export function createMailer(config: Pick<Config, 'smtpUrl' | 'mailFrom'>, database: Database, log: Logger): Mailer {
  return {
    async send(message) {
      const row = await database.db
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
      if (config.smtpUrl === undefined) return { id: row.id, sent: false };
      try {
        await transportFor(config.smtpUrl).sendMail({
          from: config.mailFrom,
          to: message.to,
          subject: message.subject,
          text: message.text,
          html: message.html,
          headers: message.headers,
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
    close() {
      if (config.smtpUrl === undefined) return;
      transports.get(config.smtpUrl)?.close();
      transports.delete(config.smtpUrl);
    },
  };
}

const mailers = new WeakMap<AppContext, Mailer>();

/** The mailer of `ctx`, made on first use and closed with its database. */
export function mailerFor(ctx: AppContext): Mailer {
  let mailer = mailers.get(ctx);
  if (mailer === undefined) {
    mailer = createMailer(ctx.config, ctx.database, ctx.log);
    mailers.set(ctx, mailer);
  }
  return mailer;
}
