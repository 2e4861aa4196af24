/**
 * Reads the mail that comes back to the digest sender: delivery status
 * notifications (RFC 3464, inside a multipart/report of RFC 6522, formerly
 * RFC 3462), abuse feedback reports (ARF, RFC 5965) and the mails a
 * `List-Unsubscribe` mailto link produces (`Subject: unsubscribe <link
 * token>`), into the events src/subscriptions/bounces.ts records.
 *
 * A small parser of its own rather than a general MIME library: only the
 * report's structure matters (headers, multipart boundaries, the transfer
 * encoding of one part), and everything it reads is hostile input from
 * whoever can mail the bounce address. It never throws; anything that is not
 * a report is `null`. Plain-text bounces without a machine-readable part (old
 * Exim, some appliances) are not guessed at: a wrong guess would suppress an
 * address that merely appears in some text.
 */
import type { MailEventKind } from '../db/schema.js';
import { emailProblem } from '../accounts/users.js';

/** The largest message the parser (and the route in front of it) reads. */
export const MAX_REPORT_BYTES = 1024 * 1024;

/** How deep multiparts may nest before the rest is ignored (real reports use 2 or 3 levels). */
const MAX_DEPTH = 5;
const MAX_PARTS = 200;
const MAX_FIELDS = 1000;
const MAX_DETAIL = 500;

/** One thing a report says about one recipient. */
export interface ReportedEvent {
  kind: MailEventKind;
  /** The address the report names (trimmed, as written). */
  email?: string;
  /**
   * A subscriber's link token the report carries instead of, or besides, an
   * address: the mailto unsubscribe subject, or the `List-Unsubscribe` header
   * of a digest returned in a complaint whose recipient was redacted.
   */
  token?: string;
  detail: string;
}

export interface MailReport {
  type: 'delivery-status' | 'feedback-report' | 'unsubscribe-request';
  /** Empty when the report is about nothing that changes a subscription (delays, successes, `not-spam`). */
  events: ReportedEvent[];
}

interface Header {
  /** Lower-cased. */
  name: string;
  /** Unfolded, trimmed. */
  value: string;
}

interface Entity {
  headers: Header[];
  /** The raw body, one character per byte (latin1). */
  body: string;
}

interface ContentType {
  type: string;
  params: Map<string, string>;
}

/**
 * Header fields of a block of `Name: value` lines, continuation lines joined.
 * Null when the first line is not a header field at all.
 */
function parseFields(block: string): Header[] | null {
  const fields: { name: string; pieces: string[] }[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (/^[ \t]/.test(line)) {
      fields[fields.length - 1]?.pieces.push(line.trim());
      continue;
    }
    const m = /^([!-9;-~]+)[ \t]*:[ \t]*(.*)$/.exec(line);
    if (m?.[1] !== undefined) {
      // Real headers number in the tens; what a hostile message adds beyond is not read.
      if (fields.length >= MAX_FIELDS) break;
      fields.push({ name: m[1].toLowerCase(), pieces: [(m[2] ?? '').trim()] });
    } else if (fields.length === 0 && line.trim() !== '') {
      return null;
    }
    // A stray line among header fields is skipped: broken reporters exist, and what follows may still be readable.
  }
  return fields.map(({ name, pieces }) => ({ name, value: pieces.filter((p) => p !== '').join(' ') }));
}

/** An entity's header fields and its body; null when it does not start with header fields. */
function parseEntity(text: string): Entity | null {
  // An mbox "From " line, as pipes from an MTA often prepend.
  const start = /^From [^\r\n]*\r?\n/.exec(text);
  const rest = start === null ? text : text.slice(start[0].length);
  // A part may have no header fields at all (it is then text/plain): the blank line comes first.
  const blank = /^\r?\n/.exec(rest) ?? /\r?\n\r?\n/.exec(rest);
  const headerBlock = blank === null ? rest : rest.slice(0, blank.index);
  const body = blank === null ? '' : rest.slice(blank.index + blank[0].length);
  const headers = parseFields(headerBlock);
  return headers === null ? null : { headers, body };
}

function header(entity: Entity, name: string): string | undefined {
  return entity.headers.find((h) => h.name === name)?.value;
}

/** `type/subtype; a=b; c="d"`: the type lower-cased, parameter names lower-cased, values unquoted. */
function contentTypeOf(entity: Entity, fallback = 'text/plain'): ContentType {
  // Real values are short; the cap keeps the parameter pattern from backtracking through a hostile megabyte.
  const value = (header(entity, 'content-type') ?? '').slice(0, 1000);
  const type = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+)/.exec(value)?.[1]?.toLowerCase();
  const params = new Map<string, string>();
  for (const m of value.matchAll(/;\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))/g)) {
    const name = m[1]?.toLowerCase();
    if (name !== undefined && !params.has(name)) params.set(name, m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? ''));
  }
  return { type: type ?? fallback, params };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The body parts of a multipart body. Lenient at the end: a message cut off
 * before its closing delimiter still gives the parts that arrived.
 */
function splitMultipart(body: string, boundary: string): string[] {
  // RFC 2046: 1 to 70 characters; anything longer is not a boundary this parser trusts.
  if (boundary.length < 1 || boundary.length > 70) return [];
  const delimiter = new RegExp(`(?:^|\\r?\\n)--${escapeRegExp(boundary)}(--)?[ \\t]*(?=\\r?\\n|$)`, 'g');
  const parts: string[] = [];
  let open = -1;
  for (const m of body.matchAll(delimiter)) {
    if (open >= 0) parts.push(body.slice(open, m.index));
    if (m[1] !== undefined || parts.length >= MAX_PARTS) return parts;
    const after = m.index + m[0].length;
    const newline = /^\r?\n/.exec(body.slice(after, after + 2));
    open = after + (newline?.[0].length ?? 0);
  }
  if (open >= 0) parts.push(body.slice(open));
  return parts;
}

/** Every entity of a message, depth first, without looking inside attached messages (message/*). */
function entities(root: Entity): Entity[] {
  const out: Entity[] = [];
  const walk = (entity: Entity, depth: number): void => {
    if (out.length >= MAX_PARTS) return;
    out.push(entity);
    const type = contentTypeOf(entity);
    if (!type.type.startsWith('multipart/') || depth >= MAX_DEPTH) return;
    for (const text of splitMultipart(entity.body, type.params.get('boundary') ?? '')) {
      const part = parseEntity(text);
      if (part !== null) walk(part, depth + 1);
    }
  };
  walk(root, 0);
  return out;
}

/** The direct parts of a multipart entity. */
function partsOf(entity: Entity): Entity[] {
  const boundary = contentTypeOf(entity).params.get('boundary') ?? '';
  return splitMultipart(entity.body, boundary)
    .map(parseEntity)
    .filter((part): part is Entity => part !== null);
}

/** A part's body with its Content-Transfer-Encoding undone, as text (UTF-8 where the bytes allow). */
function decodedBody(entity: Entity): string {
  const encoding = (header(entity, 'content-transfer-encoding') ?? '').trim().toLowerCase();
  let bytes: Buffer;
  if (encoding === 'base64') {
    bytes = Buffer.from(entity.body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  } else if (encoding === 'quoted-printable') {
    const latin1 = entity.body
      .replace(/=\r?\n/g, '')
      .replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    bytes = Buffer.from(latin1, 'latin1');
  } else {
    bytes = Buffer.from(entity.body, 'latin1');
  }
  const utf8 = bytes.toString('utf8');
  // Status fields are ASCII (RFC 3464) or UTF-8 (RFC 6533); anything else is read byte for byte.
  return utf8.includes('\uFFFD') ? bytes.toString('latin1') : utf8;
}

/** The field groups of a delivery-status or feedback-report body, separated by blank lines. */
function fieldGroups(text: string): Header[][] {
  return text
    .split(/\r?\n(?:[ \t]*\r?\n)+/)
    .map((block) => parseFields(block.replace(/^(?:[ \t]*\r?\n)+/, '')) ?? [])
    .filter((group) => group.length > 0);
}

function field(group: Header[], name: string): string | undefined {
  return group.find((h) => h.name === name)?.value;
}

/**
 * Each email address in an address list (`a@b, "N" <c@d>`): the words
 * between separators that are addresses. A split rather than a pattern
 * that looks for `@` in the middle, which would backtrack quadratically
 * through a long hostile header.
 */
function mailboxes(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value.split(/[\s<>"(),;:]+/).filter((word) => word.includes('@') && emailProblem(word) === null);
}

/**
 * The mailbox of a status address field (`rfc822; a@b`, `rfc822; <a@b>`),
 * or undefined when it is not a usable email address.
 */
function mailbox(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const semicolon = value.indexOf(';');
  const type = semicolon < 0 ? 'rfc822' : value.slice(0, semicolon).trim().toLowerCase();
  // RFC 3464 address types: rfc822, and utf-8 (RFC 6533); an X.400 address is nothing to act on.
  if (type !== 'rfc822' && type !== 'utf-8') return undefined;
  return mailboxes(value.slice(semicolon + 1))[0];
}

function clip(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= MAX_DETAIL ? flat : `${flat.slice(0, MAX_DETAIL - 1)}…`;
}

/** Class of an enhanced status code (`5.1.1` → 5), else of the SMTP reply in the diagnostic (`550` → 5). */
function statusClass(status: string | undefined, diagnostic: string | undefined): number | undefined {
  const enhanced = /\b([245])\.\d{1,3}\.\d{1,3}\b/.exec(status ?? '') ?? /\b([245])\.\d{1,3}\.\d{1,3}\b/.exec(diagnostic ?? '');
  if (enhanced?.[1] !== undefined) return Number(enhanced[1]);
  const reply = /(?:^|;)\s*([245])\d\d[\s-]/.exec(diagnostic ?? '');
  return reply?.[1] === undefined ? undefined : Number(reply[1]);
}

/** A 5.7.x enhanced status: the receiving server refused on security or policy grounds. */
function isPolicyRefusal(status: string | undefined, diagnostic: string | undefined): boolean {
  return /\b5\.7\.\d{1,3}\b/.test(status ?? '') || (status === undefined && /\b5\.7\.\d{1,3}\b/.test(diagnostic ?? ''));
}

/**
 * The bounces of a delivery status notification, one per failed recipient.
 *
 * Only `Action: failed` counts. A permanent status (5.x.x) is a hard bounce,
 * except 5.7.x: security or policy refusals, most often of the sending server
 * (a blocklisted IP, a failed SPF or DMARC check), which say nothing about the
 * mailbox. Treated as hard, one blocklisting would suppress every reader at
 * that provider for good; as a soft bounce it suppresses only an address that
 * keeps refusing (SOFT_BOUNCE_LIMIT). Anything else that failed (4.x.x: the MTA gave up retrying a mailbox that
 * stayed full or a server that stayed unreachable) is a soft bounce, as is a
 * failure with no readable status. `delayed` is nothing: the MTA is still
 * trying, and if it gives up it sends a `failed` notice for the same
 * message, so counting delays would count one message several times (MTAs
 * send a delay notice after hours and again after days). `delivered`,
 * `relayed` and `expanded` are successes.
 *
 * The address is the Original-Recipient when there is one: that is the
 * address the digest went to, while the Final-Recipient may be where it was
 * forwarded.
 */
function deliveryStatusEvents(part: Entity): ReportedEvent[] {
  const events: ReportedEvent[] = [];
  const seen = new Set<string>();
  for (const group of fieldGroups(decodedBody(part))) {
    const original = field(group, 'original-recipient');
    const final = field(group, 'final-recipient');
    if (original === undefined && final === undefined) continue;
    const action = (field(group, 'action') ?? '').toLowerCase().split(/[\s(;]/)[0];
    if (action !== 'failed') continue;
    const email = mailbox(original) ?? mailbox(final);
    if (email === undefined || seen.has(email.toLowerCase())) continue;
    seen.add(email.toLowerCase());
    const status = /\d\.\d{1,3}\.\d{1,3}/.exec(field(group, 'status') ?? '')?.[0];
    const diagnostic = field(group, 'diagnostic-code');
    const hard = statusClass(status, diagnostic) === 5 && !isPolicyRefusal(status, diagnostic);
    events.push({ kind: hard ? 'hard-bounce' : 'soft-bounce', email, detail: clip([status, diagnostic].filter(Boolean).join(' ')) });
  }
  return events;
}

/**
 * Feedback types that mean "the recipient does not want this": `abuse`
 * (the spam button), `fraud`, and `other`. Not `not-spam`, `virus` (about a
 * message, not a wish; digests carry no attachments), nor `auth-failure`
 * (RFC 6591: DKIM/SPF failure reports, which reuse the ARF format).
 */
const COMPLAINT_TYPES = new Set(['abuse', 'fraud', 'other']);

/** A subscriber's link token in a returned digest's headers (its one-click unsubscribe URL or mailto subject). */
function linkTokenIn(original: Entity | null): string | undefined {
  const value = original === null ? undefined : header(original, 'list-unsubscribe');
  return /\/unsubscribe\/([A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])/.exec(value ?? '')?.[1] ??
    /subject=unsubscribe(?:%20|\+|\s)+([A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])/i.exec(value ?? '')?.[1];
}

/**
 * The complaint of an abuse report: for its Original-Rcpt-To addresses, or,
 * when the reporter left them out, for whom the returned digest was
 * addressed. Mailbox providers often redact that `To`, so the digest's own
 * link token (in its List-Unsubscribe header) goes with it, and identifies
 * the subscriber when the address does not.
 */
function feedbackEvents(parts: Entity[]): ReportedEvent[] {
  const feedback = parts.find((p) => contentTypeOf(p).type === 'message/feedback-report');
  if (feedback === undefined) return [];
  const fields = fieldGroups(decodedBody(feedback)).flat();
  const type = (field(fields, 'feedback-type') ?? '').toLowerCase();
  if (!COMPLAINT_TYPES.has(type)) return [];
  const detail = clip(`feedback-type ${type}${field(fields, 'user-agent') === undefined ? '' : ` from ${field(fields, 'user-agent')}`}`);
  const recipients = fields.filter((h) => h.name === 'original-rcpt-to').map((h) => mailbox(h.value)).filter((a) => a !== undefined);
  const originalPart = parts.find((p) =>
    ['message/rfc822', 'message/global', 'text/rfc822-headers', 'message/rfc822-headers'].includes(contentTypeOf(p).type),
  );
  const original = originalPart === undefined ? null : parseEntity(decodedBody(originalPart));
  const token = linkTokenIn(original);
  const addresses = recipients.length > 0 ? recipients : mailboxes(original === null ? undefined : header(original, 'to'));
  const unique = [...new Map(addresses.map((a) => [a.toLowerCase(), a])).values()];
  if (unique.length === 0) return token === undefined ? [] : [{ kind: 'complaint', token, detail }];
  // The token names one subscriber: it only goes with an address when the report names exactly one.
  return unique.map((email) => ({ kind: 'complaint', email, ...(unique.length === 1 && token !== undefined ? { token } : {}), detail }));
}

/** `unsubscribe <token>`, allowing the `Re:`/`Fwd:` a mail client may add. */
const UNSUBSCRIBE_SUBJECT = /^\s*(?:(?:re|fwd?|aw|sv|tr)\s*:\s*)*unsubscribe\s+([A-Za-z0-9_-]{43})\s*$/i;

/**
 * What a returned or inbound message reports: bounces of a delivery status
 * notification, a complaint of an abuse feedback report, or an unsubscribe
 * request sent from a digest's List-Unsubscribe mailto; null for anything
 * else (an out-of-office reply, spam, garbage), and for input over
 * {@link MAX_REPORT_BYTES}.
 */
export function parseReport(raw: Buffer | string): MailReport | null {
  const bytes = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
  if (bytes === 0 || bytes > MAX_REPORT_BYTES) return null;
  const text = typeof raw === 'string' ? Buffer.from(raw, 'utf8').toString('latin1') : raw.toString('latin1');
  const root = parseEntity(text);
  if (root === null || root.headers.length === 0) return null;
  const report = entities(root).find((e) => contentTypeOf(e).type === 'multipart/report');
  if (report !== undefined) {
    const reportType = (contentTypeOf(report).params.get('report-type') ?? '').toLowerCase();
    const parts = partsOf(report);
    if (reportType === 'delivery-status' || reportType === 'global-delivery-status') {
      const status = parts.find((p) => ['message/delivery-status', 'message/global-delivery-status'].includes(contentTypeOf(p).type));
      return status === undefined ? null : { type: 'delivery-status', events: deliveryStatusEvents(status) };
    }
    if (reportType === 'feedback-report') {
      return parts.some((p) => contentTypeOf(p).type === 'message/feedback-report')
        ? { type: 'feedback-report', events: feedbackEvents(parts) }
        : null;
    }
    return null;
  }
  const subject = header(root, 'subject');
  const token = subject === undefined || subject.length > 200 ? undefined : UNSUBSCRIBE_SUBJECT.exec(subject)?.[1];
  return token === undefined
    ? null
    : { type: 'unsubscribe-request', events: [{ kind: 'unsubscribe', token, detail: 'List-Unsubscribe mailto' }] };
}
