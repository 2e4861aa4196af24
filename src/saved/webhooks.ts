/**
 * Saved-search webhooks: a Slack-compatible JSON body (`text`, `blocks`, and
 * Paperboy's own `paperboy` object for other receivers), signed so the
 * receiver can tell it came from this instance and was not replayed:
 *
 *   X-Paperboy-Timestamp: <unix seconds>
 *   X-Paperboy-Signature: v1=<hex HMAC-SHA256(secret, `${timestamp}.${body}`)>
 *
 * A receiver recomputes the HMAC over the raw body with the search's secret,
 * compares in constant time, and refuses timestamps more than five minutes
 * old (see {@link verifyWebhookSignature}, which tests use as the reference).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { guardedLookup, isPrivateAddress, PrivateAddressError } from './webhook-url.js';

/** How long one call may take, connection to last byte. */
export const WEBHOOK_TIMEOUT_MS = 10_000;
/** Papers listed in a webhook body (the count says how many there were). */
export const WEBHOOK_PAPERS = 10;
/** How old a signed timestamp a receiver should still accept. */
export const SIGNATURE_TOLERANCE_S = 300;

export const SIGNATURE_HEADER = 'x-paperboy-signature';
export const TIMESTAMP_HEADER = 'x-paperboy-timestamp';

/** A paper a webhook announces. */
export interface WebhookPaper {
  arxivId: string;
  title: string;
  authors: string;
  url: string;
}

/** Slack mrkdwn needs only these three escaped. */
function slackText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The JSON body of a delivery: Slack reads `text` and `blocks`; other receivers can use `paperboy`. */
export function webhookBody(search: { id: number; name: string; url: string }, papers: readonly WebhookPaper[], total: number): string {
  const shown = papers.slice(0, WEBHOOK_PAPERS);
  const headline = `${total} new ${total === 1 ? 'paper matches' : 'papers match'} your saved search “${search.name}”`;
  const blocks: unknown[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `*${slackText(headline)}* (<${search.url}|open on Paperboy>)` } },
    ...shown.map((p) => ({
      type: 'section',
      text: { type: 'mrkdwn', text: `<${p.url}|${slackText(p.title)}>\n${slackText(p.authors.length > 200 ? `${p.authors.slice(0, 199)}…` : p.authors)}` },
    })),
  ];
  if (total > shown.length) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `and ${total - shown.length} more` }] });
  return JSON.stringify({
    text: `${headline}: ${search.url}`,
    blocks,
    paperboy: { savedSearch: search, total, papers: shown },
  });
}

/** The signature header value of `body` sent at `timestamp` (unix seconds). */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What a receiver does: true when the signature matches and the timestamp is recent. */
export function verifyWebhookSignature(secret: string, headers: { signature: string | undefined; timestamp: string | undefined }, body: string, nowS = Math.floor(Date.now() / 1000)): boolean {
  const ts = Number(headers.timestamp);
  if (!Number.isInteger(ts) || Math.abs(nowS - ts) > SIGNATURE_TOLERANCE_S || headers.signature === undefined) return false;
  const expected = Buffer.from(webhookSignature(secret, ts, body));
  const given = Buffer.from(headers.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** How a call ended: the receiver's status, or the error that stopped it. */
export type CallOutcome = { ok: true; status: number } | { ok: false; status: number | null; error: string; permanent: boolean };

/**
 * POSTs a signed body. 2xx is success; other 4xx (but 408 and 429) and
 * redirects (not followed: the URL is what the owner configured) are
 * permanent; 5xx, 408, 429, timeouts and network errors may pass on a retry.
 */
export async function callWebhook(
  target: { url: string; secret: string },
  body: string,
  options: { allowPrivate: boolean; deliveryId: number; timeoutMs?: number; now?: number },
): Promise<CallOutcome> {
  const url = new URL(target.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // A literal address never reaches the lookup, so it is checked here.
  if (!options.allowPrivate && isIP(host) !== 0 && isPrivateAddress(host)) {
    return { ok: false, status: null, error: `${host} is a private, loopback or link-local address (WEBHOOK_ALLOW_PRIVATE is off)`, permanent: true };
  }
  const timestamp = Math.floor((options.now ?? Date.now()) / 1000);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const timeoutMs = options.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  return new Promise<CallOutcome>((resolve) => {
    let settled = false;
    const finish = (outcome: CallOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const req = request(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'Paperboy-Webhook/1',
          [TIMESTAMP_HEADER]: String(timestamp),
          [SIGNATURE_HEADER]: webhookSignature(target.secret, timestamp, body),
          'x-paperboy-delivery': String(options.deliveryId),
        },
        ...(options.allowPrivate ? {} : { lookup: guardedLookup }),
      },
      (res: IncomingMessage) => {
        // Read (and drop) a bounded answer so the socket is released.
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > 64 * 1024) res.destroy();
        });
        res.on('close', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) finish({ ok: true, status });
          else {
            const retryable = status >= 500 || status === 408 || status === 429;
            finish({ ok: false, status, error: `the receiver answered HTTP ${status}${status >= 300 && status < 400 ? ' (redirects are not followed)' : ''}`, permanent: !retryable });
          }
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (err) => finish({ ok: false, status: null, error: err.message, permanent: err instanceof PrivateAddressError }));
    req.end(body);
  });
}
