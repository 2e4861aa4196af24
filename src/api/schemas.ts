/**
 * Schemas of the JSON API: every query string and path parameter it
 * accepts and every body it answers with. Handlers validate input with these,
 * presenters are typed by them, and the OpenAPI document (`openApiDocument`)
 * is generated from them, so the three cannot drift apart.
 *
 * Response shapes follow the Hugging Face papers API (`/api/daily_papers`,
 * `/api/papers/{id}`, `/api/papers/search`) field for field, as described by
 * the HF OpenAPI spec (`APIGetDailyPapersResponse`) and parsed by
 * huggingface_hub's `PaperInfo`, so existing clients work against Paperboy.
 * Paperboy's own fields are additions; no HF field is renamed.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { emailProblem } from '../accounts/users.js';
import { MAX_COMMENT_LENGTH } from '../community/comments.js';
import {
  MAX_COLLECTIONS_PER_PERSON as MAX_COLLECTIONS,
  MAX_DESCRIPTION as MAX_COLLECTION_DESCRIPTION,
  MAX_NAME as MAX_COLLECTION_NAME,
  MAX_NOTE as MAX_COLLECTION_NOTE,
  MAX_PAPERS_PER_COLLECTION as MAX_COLLECTION_PAPERS,
} from '../people/collections.js';
import { expandCategoryFilter } from '../feeds/feed.js';
import { MODERATION_ACTIONS } from '../moderation/log.js';
import { parsePeriod, type Period, type PeriodKind } from '../feeds/periods.js';
import { PREFERENCES } from '../subscriptions/preferences.js';
import { SavedMatchesPage, SavedSearchJson, savedSearchEndpoints } from '../saved/schemas.js';

// --- query parameter building blocks ---

const ONCE = 'must be given once';

/**
 * A whole number in a query string. Parsed strictly (`10`, not `1e1`, ` 10` or
 * ``), so a typo is a 400 instead of silently meaning something else.
 */
function intParam(min: number, max: number, fallback: number) {
  const inner = z
    .number({ error: 'must be a whole number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);
  return z.preprocess(
    (v) => (typeof v === 'string' && /^-?\d{1,16}$/.test(v) ? Number(v) : v),
    inner.default(fallback),
  );
}

const PERIOD_HINTS: Record<PeriodKind, { example: string; text: string; pattern: string }> = {
  date: { example: '2026-11-24', text: 'a calendar day as YYYY-MM-DD', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
  week: { example: '2026-W48', text: 'an ISO week as YYYY-Www', pattern: '^\\d{4}-W\\d{2}$' },
  month: { example: '2026-11', text: 'a month as YYYY-MM', pattern: '^\\d{4}-\\d{2}$' },
};

/** A feed period in a query string, parsed into its range of days. */
function periodParam(kind: PeriodKind) {
  const hint = PERIOD_HINTS[kind];
  return z
    .string({ error: ONCE })
    .meta({ pattern: hint.pattern, examples: [hint.example] })
    .transform((text, ctx): Period => {
      const period = parsePeriod(kind, text);
      if (period === null) {
        ctx.addIssue({ code: 'custom', message: `must be ${hint.text}, e.g. ${hint.example} (got "${text}")` });
        return z.NEVER;
      }
      return period;
    })
    .optional()
    .describe(`Papers featured in ${hint.text.replace(/^an? /, 'this ')}. At most one of date, week and month.`);
}

const categoryParam = z
  .string({ error: ONCE })
  .meta({ examples: ['cs.LG', 'hep-th', 'math'] })
  .transform((name, ctx): string[] => {
    const categories = expandCategoryFilter(name);
    if (categories === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${name}" is no arXiv category or archive` });
      return z.NEVER;
    }
    return categories;
  })
  .optional()
  .describe('Paperboy extension: only papers in this arXiv category (cs.LG) or archive (math, hep-th).');

const limitParam = intParam(1, 100, 50).describe('Items per page, 1 to 100.');

// --- query strings and path parameters ---

/** `GET /api/daily_papers`. */
export const DailyPapersQuery = z
  .strictObject({
    date: periodParam('date'),
    week: periodParam('week'),
    month: periodParam('month'),
    submitter: z
      .string({ error: ONCE })
      .min(1, 'must not be empty')
      .max(100, 'must be at most 100 characters')
      .optional()
      .describe(
        'Only papers submitted to the feed by this user. Without a period, their submissions of every day.',
      ),
    sort: z
      .enum(['trending', 'publishedAt'], { error: 'must be "trending" or "publishedAt"' })
      .default('trending')
      .describe('`trending`: most upvoted and discussed within the period first; `publishedAt`: newest first.'),
    p: intParam(0, 100_000, 0).describe('Page index, from 0.'),
    limit: limitParam,
    category: categoryParam,
  })
  // Runs even when a field failed, so one response lists every problem.
  .refine((q) => [q.date, q.week, q.month].filter((v) => v !== undefined).length <= 1, {
    message: 'give at most one of date, week and month',
    when: () => true,
  })
  .describe('Without date, week or month: the latest day that has featured papers.');
export type DailyPapersQuery = z.infer<typeof DailyPapersQuery>;

/** `GET /api/papers/search`. */
export const SearchQuery = z.strictObject({
  q: z
    .string({ error: 'is required' })
    .trim()
    .min(1, 'must not be empty')
    .max(500, 'must be at most 500 characters')
    .meta({ examples: ['diphoton', '"dark matter" author:smith cat:astro-ph'] })
    .describe('Search words; supports "phrases", -exclusions, author: and cat: filters.'),
  limit: limitParam,
  category: categoryParam,
  mode: z
    .enum(['keyword', 'semantic', 'hybrid'], { error: 'must be keyword, semantic or hybrid' })
    .optional()
    .describe('keyword (BM25), semantic (by meaning) or hybrid (both, fused; the default). Without vectors yet, semantic and hybrid run as keyword; the X-Search-Mode header says which ran.'),
});
export type SearchQuery = z.infer<typeof SearchQuery>;

/** `GET /api/papers/{id}/similar`. */
export const SimilarQuery = z.strictObject({
  limit: intParam(1, 50, 10).describe('Papers to return, 1 to 50.'),
  sort: z
    .enum(['similarity', 'recency', 'popularity'], { error: 'must be similarity, recency or popularity' })
    .default('similarity')
    .describe('similarity (closest first), or the closest papers re-sorted by recency (newest first) or popularity (most upvoted first).'),
});
export type SimilarQuery = z.infer<typeof SimilarQuery>;

// --- list cursor ---

/** A position in the all-papers list: after the paper with this announcement day and row id. */
export interface PaperCursor {
  /** Announcement day (YYYY-MM-DD) of the last paper returned, null for papers without one. */
  announcedOn: string | null;
  id: number;
}

const CursorPayload = z.strictObject({
  a: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).nullable(),
  i: z.number().int().positive(),
  c: z.string(),
});

// The check is a checksum, not a signature: a cursor is a position anyone can
// read, so there is nothing to keep secret; it turns an edited or truncated
// cursor into a 400 instead of a silently different page.
function cursorCheck(a: string | null, i: number): string {
  return createHash('sha256').update(`paperboy-cursor-v1|${a ?? ''}|${i}`).digest('base64url').slice(0, 10);
}

/** The opaque text of a cursor: base64url of `{"a":day|null,"i":id,"c":check}`. */
export function encodeCursor(cursor: PaperCursor): string {
  const payload = { a: cursor.announcedOn, i: cursor.id, c: cursorCheck(cursor.announcedOn, cursor.id) };
  return Buffer.from(JSON.stringify(payload)).toString('base64url');
}

/** The position a cursor stands for, or null when the text is not a cursor this server issued. */
export function decodeCursor(text: string): PaperCursor | null {
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(text)) return null;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  const parsed = CursorPayload.safeParse(json);
  if (!parsed.success || parsed.data.c !== cursorCheck(parsed.data.a, parsed.data.i)) return null;
  return { announcedOn: parsed.data.a, id: parsed.data.i };
}

/** `GET /api/papers`. */
export const PapersListQuery = z.strictObject({
  cursor: z
    .string({ error: ONCE })
    .transform((text, ctx): PaperCursor => {
      const cursor = decodeCursor(text);
      if (cursor === null) {
        ctx.addIssue({ code: 'custom', message: 'is not a cursor from this API; follow the Link header' });
        return z.NEVER;
      }
      return cursor;
    })
    .optional()
    .describe('Opaque position from the `Link: <…>; rel="next"` header of the previous page. Omit for the first page.'),
  limit: limitParam,
});
export type PapersListQuery = z.infer<typeof PapersListQuery>;

/** Routes that take no query parameters at all. */
export const EmptyQuery = z.strictObject({});

/** `GET /api/papers/{id}`: a new-style id (`2106.09685`, version suffix allowed) or an encoded old-style one. */
export const PaperIdParams = z.strictObject({
  id: z.string().min(1).meta({ examples: ['0704.0001', '2106.09685v2'] }).describe('arXiv id, with or without version.'),
});
export type PaperIdParams = z.infer<typeof PaperIdParams>;

/** `GET /api/papers/{archive}/{number}`: old-style ids such as `hep-th/9901001`. */
export const OldStylePaperIdParams = z.strictObject({
  archive: z.string().min(1).meta({ examples: ['hep-th', 'math.AG'] }).describe('Archive (subject class allowed).'),
  number: z.string().min(1).meta({ examples: ['9901001'] }).describe('Seven-digit number, with or without version.'),
});
export type OldStylePaperIdParams = z.infer<typeof OldStylePaperIdParams>;

/** `POST /api/papers/submit`. */
export const SubmitPaperBody = z
  .strictObject({
    id: z
      .string({ error: 'is required: an arXiv id or arxiv.org URL' })
      .max(2000, 'must be at most 2000 characters')
      .meta({ examples: ['2401.01234', 'https://arxiv.org/abs/2401.01234v2', 'hep-th/9901001'] })
      .describe('arXiv id (new or old style, version optional) or its arxiv.org abs or pdf URL.'),
  })
  .describe('The paper to submit.');
export type SubmitPaperBody = z.infer<typeof SubmitPaperBody>;

const commentBody = z
  .string({ error: 'is required: the comment in Markdown' })
  .max(MAX_COMMENT_LENGTH, `must be at most ${MAX_COMMENT_LENGTH.toLocaleString('en')} characters`)
  .meta({ examples: ['Nice result. Does $\\ell_1$ work too? @ada'] })
  .describe(
    'Markdown: emphasis, code, lists, quotes, http(s)/mailto links, TeX as `$…$` or `$$…$$`; raw HTML is shown as text. ' +
      '`@username` notifies that person. Not blank.',
  );

/** `POST /api/papers/{id}/comments`. */
export const NewCommentBody = z
  .strictObject({
    body: commentBody,
    parentId: z
      .number({ error: 'must be the id (a whole number) of the comment this one replies to' })
      .int('must be a whole number')
      .positive('must be a comment id')
      .nullable()
      .optional()
      .describe('The comment this one replies to, on the same paper; omit or null for a top-level comment.'),
  })
  .describe('A new comment.');
export type NewCommentBody = z.infer<typeof NewCommentBody>;

/** `PATCH /api/comments/{id}`. */
const moderationReason = z
  .string({ error: 'must be a text' })
  .trim()
  .min(1, 'must not be empty')
  .max(500, 'must be at most 500 characters')
  .describe('Why: shown in the public moderation log.');

export const CommentEditBody = z
  .strictObject({ body: commentBody, reason: moderationReason.optional().describe("Required when a moderator edits someone else's comment (the moderation log).") })
  .describe('The new text of your comment.');

/** `DELETE /api/comments/{id}`: a moderator deleting someone else's comment says why. */
export const CommentDeleteBody = z
  .strictObject({ reason: moderationReason.optional().describe("Required when a moderator deletes someone else's comment (the moderation log).") })
  .describe('Optional body of a deletion.');
export type CommentEditBody = z.infer<typeof CommentEditBody>;

/** `/api/comments/{id}`. */
export const CommentIdParams = z.strictObject({
  id: z
    .string()
    .regex(/^\d{1,15}$/, 'must be a comment number')
    .transform(Number)
    .meta({ examples: ['42'] })
    .describe('Comment id.'),
});
export type CommentIdParams = z.infer<typeof CommentIdParams>;

// --- mail webhook (src/api/mail-webhook-routes.ts) ---

const webhookAddress = z
  .string({ error: 'is required: the recipient\'s email address' })
  .trim()
  .refine((email) => emailProblem(email) === null, 'must be an email address such as ada@example.org')
  .meta({ examples: ['ada@example.org'] });
const eventDetail = z
  .string({ error: 'must be text' })
  .max(1000, 'must be at most 1000 characters')
  .optional()
  .describe('Kept with the event: the provider\'s reason, a status code.');

/** One event of `POST /api/mail/events`. */
export const MailEventItem = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      type: z.literal('bounce'),
      email: webhookAddress,
      bounce: z
        .enum(['hard', 'soft'], { error: 'must be "hard" or "soft"' })
        .describe('`hard`: permanent (no such mailbox); `soft`: temporary (mailbox full), suppresses after `SOFT_BOUNCE_LIMIT` in 30 days.'),
      detail: eventDetail,
    }),
    z.strictObject({ type: z.literal('complaint'), email: webhookAddress, detail: eventDetail }),
    z
      .strictObject({
        type: z.literal('unsubscribe'),
        email: webhookAddress.optional(),
        token: z
          .string({ error: 'must be text' })
          .regex(/^[A-Za-z0-9_-]{43}$/, 'must be a subscriber\'s link token: the 43 characters after `unsubscribe ` in the mailto subject')
          .optional()
          .describe('The link token of a digest\'s List-Unsubscribe mailto subject (`unsubscribe <token>`), instead of the address.'),
        detail: eventDetail,
      })
      .refine((e) => e.email !== undefined || e.token !== undefined, { message: 'give the email or the token' }),
  ],
  { error: 'type must be "bounce", "complaint" or "unsubscribe"' },
);

/** `POST /api/mail/events`. */
export const MailEventsBody = z
  .strictObject({
    events: z
      .array(MailEventItem, { error: 'is required: a list of events' })
      .min(1, 'must list at least one event')
      .max(500, 'must list at most 500 events')
      .meta({ examples: [[{ type: 'bounce', email: 'ada@example.org', bounce: 'hard', detail: '550 5.1.1 user unknown' }]] })
      .describe(
        'Each `{type: "bounce", email, bounce: "hard"|"soft"}`, `{type: "complaint", email}` or `{type: "unsubscribe", email or token}`, with an optional `detail`.',
      ),
  })
  .describe('Bounces, complaints and unsubscribes reported by a mail provider or an inbound mail pipe.');
export type MailEventsBody = z.infer<typeof MailEventsBody>;

// --- digest subscriptions (src/api/subscription-routes.ts) ---

/** `POST /api/subscriptions`. */
export const SubscriptionBody = z
  .strictObject({
    email: z
      .string({ error: 'is required: the email address to subscribe' })
      .trim()
      .refine((email) => emailProblem(email) === null, 'must be an email address such as ada@example.org')
      .meta({ examples: ['ada@example.org'] })
      .describe('The address that gets the digest, once it confirms from the emailed link.'),
    cadence: z
      .enum(['daily', 'weekly'], { error: 'must be "daily" or "weekly"' })
      .optional()
      .meta({ examples: ['weekly'] })
      .describe('`daily` (on weekdays; the default for a new subscription) or `weekly`.'),
    categories: PREFERENCES.shape.categories
      .unwrap()
      .optional()
      .meta({ examples: [['cs.LG', 'hep-th']] })
      .describe('arXiv categories (`cs.LG`) or archives (`math`), at most 20; omitted or empty: every category.'),
  })
  .describe('A subscription request. Everything else (number of papers, keywords) is chosen on the preferences page after confirming.');
export type SubscriptionBody = z.infer<typeof SubscriptionBody>;

// --- responses ---

/** Every error answer: a stable code and a human-readable message. */
export const ApiError = z
  .object({
    error: z.string().meta({ examples: ['invalid_request', 'not_found', 'rate_limited'] }),
    message: z.string(),
  })
  .describe('Error: `error` is a stable code, `message` says what was wrong.');
export type ApiError = z.infer<typeof ApiError>;

const isoDateTime = z.string().meta({ format: 'date-time', examples: ['2007-04-02T19:18:42.000Z'] });

/** An author as HF lists them; Paperboy authors are never hidden nor linked to accounts. */
export const Author = z
  .object({
    _id: z.string().describe('Stable id of this author entry: the arXiv id and the position.'),
    name: z.string(),
    hidden: z.boolean(),
    affiliations: z.array(z.string()).describe('Paperboy extension.'),
  })
  .describe('Paper author.');
export type Author = z.infer<typeof Author>;

/** Who put a paper on the feed, in HF's user-overview shape. */
export const User = z
  .object({
    _id: z.string(),
    name: z.string().describe('Username, or the rule name for automatic featuring.'),
    fullname: z.string(),
    avatarUrl: z.string().describe('Always empty: Paperboy has no avatars.'),
    isPro: z.boolean(),
    type: z.enum(['user', 'rule']).describe('HF uses `user`; `rule` is the automatic category rule.'),
    user: z.string().optional(),
  })
  .describe('The user (or rule) that featured a paper.');
export type User = z.infer<typeof User>;

/** Paperboy's feed record of a featured paper. */
export const Featured = z
  .object({
    on: z.string().meta({ format: 'date' }).describe('The feed day.'),
    source: z.enum(['rule', 'curator', 'submission']),
    by: z.string().nullable().describe('Username of the curator or submitter, or the rule name.'),
    at: isoDateTime,
  })
  .describe('Paperboy extension: how a paper got into the daily feed.');
export type Featured = z.infer<typeof Featured>;

export const Link = z
  .object({ url: z.string(), kind: z.enum(['code', 'project', 'data', 'other']) })
  .describe('Paperboy extension: a link found in the abstract or comments.');

/** The paper object: `GET /api/papers/{id}`, the items of `GET /api/papers`, and `paper` in feed items. */
export const Paper = z
  .object({
    id: z.string().meta({ examples: ['0704.0001', 'hep-th/9901001'] }).describe('arXiv id without version.'),
    authors: z.array(Author),
    publishedAt: isoDateTime.describe('Submission of the first version.'),
    submittedOnDailyAt: isoDateTime.optional().describe('When the paper entered the daily feed (featured papers).'),
    submittedOnDailyBy: User.optional(),
    title: z.string().describe('Title as on arXiv (may contain TeX).'),
    summary: z.string().describe('Abstract as on arXiv (may contain TeX).'),
    upvotes: z.number().int(),
    discussionId: z.string().describe('Id of the paper discussion: the arXiv id.'),
    githubRepo: z.string().optional().describe('First GitHub repository mentioned in the abstract or comments.'),
    projectPage: z.string().optional().describe('First project page mentioned in the abstract or comments.'),
    numComments: z.number().int(),
    // Paperboy extensions
    titleText: z.string().describe('Paperboy extension: title as plain text.'),
    summaryText: z.string().describe('Paperboy extension: abstract as plain text.'),
    version: z.number().int().describe('Paperboy extension: latest arXiv version.'),
    categories: z.array(z.string()).describe('Paperboy extension: arXiv categories, primary first.'),
    primaryCategory: z.string().nullable().describe('Paperboy extension.'),
    updatedAt: isoDateTime.nullable().describe('Paperboy extension: submission of the latest version.'),
    announcedOn: z.string().nullable().meta({ format: 'date' }).describe('Paperboy extension: arXiv announcement day.'),
    doi: z.string().nullable().describe('Paperboy extension.'),
    journalRef: z.string().nullable().describe('Paperboy extension.'),
    arxivComments: z.string().nullable().describe('Paperboy extension: the arXiv comments field.'),
    license: z.string().nullable().describe('Paperboy extension.'),
    withdrawn: z.boolean().describe('Paperboy extension.'),
    links: z.array(Link),
    featured: Featured.nullable(),
  })
  .describe('A paper.');
export type Paper = z.infer<typeof Paper>;

/** An item of `GET /api/papers/search`: the daily-papers item shape, `submittedBy` only for featured papers. */
export const PaperSearchResult = z
  .object({
    paper: Paper,
    publishedAt: isoDateTime.describe('When the paper entered the daily feed; its first version when not featured.'),
    title: z.string(),
    summary: z.string(),
    thumbnail: z.string().describe('Always empty: Paperboy renders no thumbnails.'),
    numComments: z.number().int(),
    submittedBy: User.optional(),
    isAuthorParticipating: z.boolean(),
  })
  .describe('A paper in a list, in the shape of an HF daily-papers item.');
export type PaperSearchResult = z.infer<typeof PaperSearchResult>;

/** An item of `GET /api/papers/{id}/similar`. */
export const SimilarPaper = PaperSearchResult.extend({
  similarity: z.number().min(-1).max(1).describe('Cosine similarity of the two papers under the active embedding model.'),
}).describe('A paper similar to another, with how similar.');
export type SimilarPaper = z.infer<typeof SimilarPaper>;

/** An item of `GET /api/daily_papers`. */
export const DailyPaper = PaperSearchResult.extend({
  publishedAt: isoDateTime.describe('When the paper entered the daily feed (huggingface_hub reads it as `submitted_at`).'),
  submittedBy: User,
}).describe('A featured paper of the feed.');
export type DailyPaper = z.infer<typeof DailyPaper>;

/** The answer of the upvote endpoints. */
export const UpvoteState = z
  .object({
    upvoted: z.boolean().describe('Whether you upvote the paper (after this request).'),
    upvotes: z.number().int().describe('The paper\'s upvote count (after this request).'),
  })
  .describe('Your upvote of a paper and its count.');
export type UpvoteState = z.infer<typeof UpvoteState>;

/** A comment on a paper; a deleted comment that still has replies is a tombstone (`deleted`, no author or body). */
export const Comment = z
  .object({
    id: z.number().int(),
    paperId: z.string().describe('arXiv id of the paper.'),
    parentId: z.number().int().nullable().describe('The comment this one replies to; null at the top level.'),
    author: z.object({ username: z.string() }).nullable().describe('Null once deleted (or when its author deleted their account).'),
    authorIsVerifiedAuthor: z.boolean().describe('Whether the commenter is a verified author of this paper (the "author" badge).'),
    body: z.string().nullable().describe('Markdown as written; null once deleted.'),
    bodyHtml: z.string().nullable().describe('The body as sanitised HTML (TeX left in `span.tex` for KaTeX); null once deleted.'),
    createdAt: isoDateTime,
    editedAt: isoDateTime.nullable().describe('Last edit; earlier versions are in `GET /api/comments/{id}`.'),
    deleted: z.boolean(),
    hidden: z.boolean().describe('Hidden by a moderator: `body` and `bodyHtml` are null except for its author and moderators.'),
    hiddenReason: z.string().nullable().describe('Why a moderator hid it; null when shown.'),
    url: z.string().describe('The comment on its paper\'s page.'),
  })
  .describe('A comment. Lists are flat, oldest first; `parentId` makes the thread.');
export type Comment = z.infer<typeof Comment>;

export const CommentRevision = z
  .object({
    body: z.string().describe('Markdown as it was.'),
    bodyHtml: z.string(),
    createdAt: isoDateTime.describe('When this version was written.'),
  })
  .describe('An earlier version of an edited comment.');

export const CommentWithHistory = Comment.extend({
  revisions: z.array(CommentRevision).describe('Earlier versions, oldest first; empty when never edited (or deleted).'),
}).describe('A comment with its edit history.');
export type CommentWithHistory = z.infer<typeof CommentWithHistory>;

/** What `POST /api/mail/events` changed: counts only, no address is ever echoed. */
export const MailEventsResult = z
  .object({
    recorded: z.number().int().describe('Events stored.'),
    suppressed: z.number().int().describe('Addresses this request suppressed: they get no more mail.'),
    unsubscribed: z.number().int().describe('Subscriptions this request ended.'),
    ignored: z.number().int().describe('Events that named no known subscriber (an unknown link token and no address).'),
  })
  .describe('What a batch of mail events changed.');
export type MailEventsResult = z.infer<typeof MailEventsResult>;

/** What `POST /api/mail/dsn` found and changed. */
export const MailReportResult = MailEventsResult.extend({
  report: z
    .enum(['delivery-status', 'feedback-report', 'unsubscribe-request'])
    .nullable()
    .describe('What the message was; null when it was none of these (nothing is recorded).'),
}).describe('What a returned or inbound message reported and changed.');
export type MailReportResult = z.infer<typeof MailReportResult>;

/** The answer to every well-formed subscription request, whatever the address's state. */
export const SubscriptionAccepted = z
  .object({
    status: z.literal('accepted'),
    message: z.string().describe('What happens next, in words.'),
  })
  .describe('The request was taken; a confirmation email is on its way if the address can get the digest.');
export type SubscriptionAccepted = z.infer<typeof SubscriptionAccepted>;

// --- follows and the Following feed ---

const FollowKindField = z
  .enum(['author', 'category', 'user', 'keyword'], { error: 'must be author, category, user or keyword' })
  .describe('What is followed: an author (exact parsed name), a category or archive, a user, or a keyword search.');

/** `POST /api/follows`. */
export const FollowBody = z
  .strictObject({
    kind: FollowKindField,
    target: z
      .string({ error: 'must be a string' })
      .max(1000, 'must be at most 1000 characters')
      .meta({ examples: ['Ada Lovelace', 'cs.LG', 'ada', 'diffusion model'] })
      .describe(
        'An author\'s name exactly as on their papers (at most 200 characters; some paper must have it), a category (`cs.LG`) or archive (`math`), ' +
          'a username (or a user id; an all-digit target is an id), or a search in the search-box syntax (2 to 100 characters).',
      ),
  })
  .describe('Something to follow.');
export type FollowBody = z.infer<typeof FollowBody>;

export const FollowIdParams = z.strictObject({
  id: z.string().regex(/^\d{1,15}$/, 'must be a follow number').transform(Number).meta({ examples: ['7'] }).describe('Follow id.'),
});

/** `GET /api/following`. */
export const FollowingQuery = z
  .strictObject({
    before: z
      .string({ error: ONCE })
      .regex(/^\d{4}-\d{2}-\d{2}\.\d{1,15}$/, 'must be the `next` of a previous page')
      .optional()
      .describe('Papers older than this position: the `next` of the previous page.'),
    limit: intParam(1, 100, 25).describe('Papers per page, 1 to 100.'),
  })
  .describe('A page of the Following feed.');

export const Follow = z
  .object({
    id: z.number().int(),
    kind: FollowKindField,
    target: z.string().describe('As stored: the author\'s name, the category, the followed user\'s id in decimal, or the search.'),
    label: z.string().describe('As people read it: the followed user\'s current username, else the target.'),
    createdAt: isoDateTime,
  })
  .describe('Something you follow.');
export type Follow = z.infer<typeof Follow>;

export const FollowReason = z
  .object({
    kind: FollowKindField,
    target: z.string().describe('The author\'s name, the category, the username or the search.'),
    text: z.string().meta({ examples: ['by an author you follow: Ada Lovelace', 'in cs.LG', 'from ada (submitted)', "matches your search 'diffusion'"] }),
  })
  .describe('One reason a paper is in your Following feed.');

export const FollowingItem = z
  .object({
    paper: Paper,
    day: z.string().meta({ format: 'date' }).describe('The day the feed dates the paper by: its announcement, else its first submission.'),
    reasons: z.array(FollowReason).describe('Every follow the paper matches.'),
  })
  .describe('A paper in your Following feed.');

export const FollowingPage = z
  .object({
    items: z.array(FollowingItem).describe('Newest first.'),
    next: z.string().nullable().describe('`before` of the next (older) page; null on the last page.'),
  })
  .describe('A page of your Following feed.');
export type FollowingPage = z.infer<typeof FollowingPage>;

// --- For you, not interested, muted keywords (src/api/for-you-routes.ts) ---

/** `GET /api/for-you`. */
export const ForYouQuery = z.strictObject({ limit: intParam(1, 100, 20).describe('Papers, 1 to 100.') }).describe('Your For you list.');

export const ForYouReason = z
  .object({
    kind: z
      .enum(['upvoted', 'saved', 'authored', 'author', 'user', 'keyword', 'category', 'shared-author', 'shared-category'])
      .describe('The signal: like a paper you upvoted, saved or wrote; a follow; or (before vectors exist) an author or category your papers share.'),
    text: z.string().meta({ examples: ['Similar to “Attention is all you need”, which you upvoted', 'By an author you follow: Ada Lovelace', 'In cs.LG, which you follow'] }),
    like: z.object({ id: z.string().describe('arXiv id.'), title: z.string() }).optional().describe('The paper of yours it is like.'),
  })
  .describe('Why a paper is recommended to you.');

export const ForYouItem = z
  .object({
    paper: Paper,
    day: z.string().meta({ format: 'date' }).describe('Its announcement day, else its first submission.'),
    score: z.number().describe('Ranking score (higher is better); comparable within one answer only.'),
    reasons: z.array(ForYouReason).describe('The strongest reason first.'),
  })
  .describe('A paper recommended to you.');

export const ForYouPage = z
  .object({
    items: z.array(ForYouItem).describe('Best first, diversified.'),
    semantic: z
      .enum(['ready', 'no-model', 'no-vectors'])
      .describe('`ready`: ranked by meaning; `no-model`: no embedding model yet, ranked by follows, shared authors and categories; `no-vectors`: your papers are not embedded yet.'),
    windowDays: z.number().int().describe('The papers are from this many days up to `referenceDay`.'),
    referenceDay: z.string().meta({ format: 'date' }).describe('Today, or the newest announcement day when the instance is older.'),
  })
  .describe('Your For you list.');
export type ForYouPage = z.infer<typeof ForYouPage>;

export const NotInterestedState = z
  .object({ id: z.string().describe('arXiv id.'), notInterested: z.boolean() })
  .describe('Whether you marked a paper "not interested": it then leaves your feeds, search results and digest.');
export type NotInterestedState = z.infer<typeof NotInterestedState>;

/** `POST /api/muted-keywords`. */
export const MutedKeywordBody = z
  .strictObject({
    keyword: z
      .string({ error: 'must be a string' })
      .max(100, 'must be at most 100 characters')
      .meta({ examples: ['survey', 'large language model'] })
      .describe('A word or phrase (2 to 100 characters), matched case-insensitively as whole words in titles and abstracts.'),
  })
  .describe('A keyword to mute.');

export const MutedKeywordParams = z.strictObject({
  keyword: z.string().min(1).max(300).meta({ examples: ['survey'] }).describe('The muted keyword, URL-encoded (any spelling).'),
});

export const MutedKeyword = z.object({ keyword: z.string(), createdAt: isoDateTime }).describe('A keyword you muted.');
export type MutedKeyword = z.infer<typeof MutedKeyword>;

// --- collections (src/api/collection-routes.ts) ---

const collectionIdParam = z
  .string()
  .regex(/^\d{1,15}$/, 'must be a collection number')
  .transform(Number)
  .meta({ examples: ['1'] })
  .describe('Collection id.');
const collectionNameField = z
  .string({ error: 'must be text' })
  .trim()
  .min(1, 'must not be empty')
  .max(MAX_COLLECTION_NAME, `must be at most ${MAX_COLLECTION_NAME} characters`)
  .meta({ examples: ['Reading group: scaling laws'] });
const collectionDescriptionField = z
  .string({ error: 'must be text' })
  .trim()
  .max(MAX_COLLECTION_DESCRIPTION, `must be at most ${MAX_COLLECTION_DESCRIPTION} characters`);
const collectionPublicField = z.boolean({ error: 'must be true or false' });

/** `/api/collections/{id}`. */
export const CollectionIdParams = z.strictObject({ id: collectionIdParam });

/** `/api/collections/{id}/papers/{paperId}`. */
export const CollectionPaperParams = z.strictObject({
  id: collectionIdParam,
  paperId: z
    .string()
    .min(1)
    .max(300)
    .meta({ examples: ['2106.09685', 'hep-th%2F9901001'] })
    .describe('arXiv id of the paper; old-style ids URL-encoded (`hep-th%2F9901001`).'),
});

/** `POST /api/collections`. */
export const NewCollectionBody = z
  .strictObject({
    name: collectionNameField.describe(`1 to ${MAX_COLLECTION_NAME} characters.`),
    description: collectionDescriptionField.optional().describe(`At most ${MAX_COLLECTION_DESCRIPTION} characters.`),
    public: collectionPublicField.optional().describe('Default false: private, visible to you only.'),
  })
  .describe('A new collection.');

/** `PATCH /api/collections/{id}`. */
export const CollectionPatchBody = z
  .strictObject({
    name: collectionNameField.optional(),
    description: collectionDescriptionField.optional(),
    public: collectionPublicField.optional(),
    order: z
      .array(z.string({ error: 'must be arXiv ids' }).min(1).max(300), { error: 'must be a list of arXiv ids' })
      .max(MAX_COLLECTION_PAPERS, `must list at most ${MAX_COLLECTION_PAPERS} papers`)
      .optional()
      .describe("The collection's papers (arXiv ids) in their new order: each exactly once."),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), { message: 'give at least one of name, description, public and order' })
  .describe('What to change.');

/** `POST /api/collections/{id}/papers/{paperId}`. */
export const CollectionPaperBody = z
  .strictObject({
    note: z
      .string({ error: 'must be text' })
      .trim()
      .max(MAX_COLLECTION_NOTE, `must be at most ${MAX_COLLECTION_NOTE} characters`)
      .optional()
      .describe('Your note on the paper; replaces the note of a paper already there.'),
    position: z
      .number({ error: 'must be a whole number' })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .optional()
      .describe('1-based place in the list; default: the end for a new paper, unchanged for one already there.'),
  })
  .describe('The note and place of the paper.');

export const CollectionJson = z
  .object({
    id: z.number().int(),
    name: z.string(),
    description: z.string(),
    public: z.boolean().describe('False: only its owner sees it.'),
    owner: z.string().describe('Username of the owner.'),
    paperCount: z.number().int(),
    createdAt: isoDateTime,
    updatedAt: isoDateTime.describe('Last change of the collection or its papers.'),
    url: z.string().describe('Its page.'),
  })
  .describe('A collection of papers.');
export type CollectionJson = z.infer<typeof CollectionJson>;

export const CollectionPaperJson = z
  .object({
    id: z.string().describe('arXiv id.'),
    title: z.string().describe('Title as plain text.'),
    note: z.string(),
    position: z.number().int().describe('1-based place in the list.'),
    addedAt: isoDateTime,
    url: z.string().describe('The paper\'s page.'),
  })
  .describe('A paper in a collection.');
export type CollectionPaperJson = z.infer<typeof CollectionPaperJson>;

export const CollectionWithPapers = CollectionJson.extend({
  papers: z.array(CollectionPaperJson).describe('In the collection\'s order.'),
}).describe('A collection with its papers.');
export type CollectionWithPapers = z.infer<typeof CollectionWithPapers>;

const importedEntry = z.object({ key: z.string().describe('The entry\'s citation key.'), line: z.number().int(), paperId: z.string().describe('arXiv id it matched.') });
export const CollectionImport = z
  .object({
    matched: z.array(importedEntry).describe('Entries added to the collection.'),
    alreadyPresent: z.array(importedEntry).describe('Entries whose paper was in the collection already.'),
    unmatched: z
      .array(z.object({ key: z.string().nullable(), line: z.number().int(), reason: z.string() }))
      .describe('Entries that name no paper of this instance, or could not be read (with the reason).'),
  })
  .describe('What a BibTeX import did.');
export type CollectionImport = z.infer<typeof CollectionImport>;

// --- authorship claims and profiles (src/api/people-routes.ts) ---

const ClaimStatusField = z
  .enum(['pending', 'verified', 'rejected'], { error: 'must be pending, verified or rejected' })
  .describe('`pending` until a curator decides; `verified` or `rejected` (with a reason).');

export const ClaimIdParams = z.strictObject({
  id: z.string().regex(/^\d{1,15}$/, 'must be a claim number').transform(Number).meta({ examples: ['3'] }).describe('Claim id.'),
});

export const UsernameParams = z.strictObject({
  username: z.string().min(1).max(30).meta({ examples: ['ada'] }).describe('Username (any case).'),
});

/** `GET /api/claims`. */
export const ClaimsQuery = z.strictObject({
  status: ClaimStatusField.default('pending').describe('Which claims: `pending` (the queue, oldest first; default), `verified` or `rejected` (newest first).'),
});

/** `POST /api/papers/{id}/claims`. */
export const NewClaimBody = z
  .strictObject({
    authorName: z
      .string({ error: 'is required: one of the paper\'s author names, exactly as listed' })
      .max(1000, 'must be at most 1000 characters')
      .meta({ examples: ['Ada Lovelace'] })
      .describe('The author you are, exactly as in the paper\'s `authors[].name`.'),
    evidence: z
      .string({ error: 'must be text' })
      .max(500, 'must be at most 500 characters')
      .optional()
      .describe('What links you to the paper (a homepage, an ORCID), for the curators; at most 500 characters.'),
  })
  .describe('An authorship claim.');

/** `POST /api/claims/{id}/reject`. */
export const ClaimRejectBody = z
  .strictObject({
    reason: z
      .string({ error: 'is required: why the claim is rejected (the claimant sees it)' })
      .trim()
      .min(1, 'must not be empty')
      .max(500, 'must be at most 500 characters')
      .describe('Why, in words the claimant reads.'),
  })
  .describe('A rejection.');

/** `PATCH /api/claims/{id}`. */
export const ClaimPatchBody = z
  .strictObject({ showOnProfile: z.boolean({ error: 'is required: true or false' }).describe('Whether the paper shows on your public profile.') })
  .describe('Your verified claim\'s profile setting.');

export const ClaimJson = z
  .object({
    id: z.number().int(),
    paperId: z.string().describe('arXiv id of the paper.'),
    paperTitle: z.string(),
    authorName: z.string().describe('The author name claimed, exactly as on the paper.'),
    username: z.string().describe('The claimant.'),
    evidence: z.string(),
    status: ClaimStatusField,
    reason: z.string().nullable().describe('Why it was rejected; null unless rejected.'),
    decidedAt: isoDateTime.nullable(),
    showOnProfile: z.boolean(),
    createdAt: isoDateTime,
  })
  .describe('An authorship claim.');
export type ClaimJson = z.infer<typeof ClaimJson>;

export const UserProfile = z
  .object({
    username: z.string(),
    role: z.enum(['user', 'curator', 'moderator', 'admin']),
    createdAt: isoDateTime,
    restricted: z.enum(['banned', 'suspended']).nullable().describe('Whether the moderators banned or suspended the account.'),
    claimedPapers: z
      .array(z.object({ id: z.string().describe('arXiv id.'), title: z.string(), authorName: z.string() }))
      .describe('Papers this person is a verified author of (those they show on their profile).'),
    submissions: z.array(z.object({ id: z.string().describe('arXiv id.'), title: z.string(), featuredOn: z.string().meta({ format: 'date' }) })).describe('Papers they submitted to the daily feed, newest first.'),
    collections: z
      .array(
        z.object({
          id: z.number().int(),
          name: z.string(),
          description: z.string(),
          paperCount: z.number().int(),
          updatedAt: isoDateTime,
          url: z.string(),
        }),
      )
      .describe('Their public collections.'),
    recentComments: z
      .array(z.object({ id: z.number().int(), paperId: z.string().describe('arXiv id.'), createdAt: isoDateTime, url: z.string() }))
      .describe('Their latest comments (not deleted or hidden), newest first.'),
  })
  .describe('A public profile: never the email address.');
export type UserProfile = z.infer<typeof UserProfile>;

// --- moderation (src/api/moderation-routes.ts) ---

/** A staff action's body: the reason every action needs. */
export const ModerationReasonBody = z.strictObject({ reason: moderationReason }).describe('Why; shown in the public moderation log.');
export type ModerationReasonBody = z.infer<typeof ModerationReasonBody>;

/** `POST /api/papers/{id}/feature`. */
export const FeatureBody = z
  .strictObject({
    reason: moderationReason,
    day: z
      .string({ error: 'must be a date as YYYY-MM-DD' })
      .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD')
      .refine((d) => !Number.isNaN(Date.parse(d)), 'must be a real date')
      .optional()
      .describe('The feed day (UTC); default today.'),
  })
  .describe('Feature a paper on a day, with a reason.');
export type FeatureBody = z.infer<typeof FeatureBody>;

/** `POST /api/comments/{id}/reports`. */
export const ReportBody = z
  .strictObject({
    reason: z.enum(['spam', 'abuse', 'off-topic', 'other'], { error: 'must be one of spam, abuse, off-topic, other' }),
    details: z.string({ error: 'must be a text' }).max(1000, 'must be at most 1000 characters').optional().describe('What the moderators should know.'),
  })
  .describe('A report of a comment to the moderators.');
export type ReportBody = z.infer<typeof ReportBody>;

/** `GET /api/moderation`. */
export const ModerationLogQuery = z.strictObject({
  before: intParam(1, Number.MAX_SAFE_INTEGER, 0).describe('Entries older than this entry id (the `next` of the previous page).'),
  limit: limitParam,
  action: z
    .enum(MODERATION_ACTIONS, { error: 'must be a moderation action such as hide_comment' })
    .optional()
    .describe('Only this action.'),
});
export type ModerationLogQuery = z.infer<typeof ModerationLogQuery>;

export const ModerationLogEntry = z
  .object({
    id: z.number().int(),
    createdAt: isoDateTime,
    actor: z.object({ username: z.string(), role: z.string() }).describe('Who acted, with their role at the time.'),
    action: z.string().describe('What they did, e.g. `hide_comment`.'),
    subject: z
      .object({
        kind: z.enum(['paper', 'comment', 'user', 'claim', 'setting', 'report']),
        id: z.string().describe('arXiv id, comment id, user id, claim id or setting name.'),
        label: z.string().describe('A title or username; never private data.'),
      })
      .describe('What they acted on.'),
    reason: z.string(),
  })
  .describe('One action in the public moderation log.');
export type ModerationLogEntry = z.infer<typeof ModerationLogEntry>;

export const ModerationLogPage = z
  .object({
    entries: z.array(ModerationLogEntry).describe('Newest first.'),
    next: z.number().int().nullable().describe('Pass as `before` for the next page; null on the last.'),
  })
  .describe('A page of the public moderation log.');
export type ModerationLogPage = z.infer<typeof ModerationLogPage>;

export const ModerationDone = z
  .object({
    action: z.string().describe('The logged action, e.g. `lock_thread`.'),
    subject: z.string().describe('What it was done to (an arXiv id or comment id).'),
    reason: z.string(),
  })
  .describe('A staff action that was carried out and logged.');
export type ModerationDone = z.infer<typeof ModerationDone>;

export const Report = z
  .object({
    id: z.number().int(),
    commentId: z.number().int(),
    reason: z.enum(['spam', 'abuse', 'off-topic', 'other']),
    details: z.string(),
    createdAt: isoDateTime,
  })
  .describe('A report you filed; the moderators see it in their queue.');
export type Report = z.infer<typeof Report>;

/** Response schemas by the name the OpenAPI document gives them. */
export const COMPONENTS = {
  Error: ApiError,
  Claim: ClaimJson,
  UserProfile,
  Author,
  User,
  Featured,
  Link,
  Paper,
  PaperSearchResult,
  SimilarPaper,
  DailyPaper,
  UpvoteState,
  Comment,
  CommentRevision,
  CommentWithHistory,
  MailEventsResult,
  MailReportResult,
  SubscriptionAccepted,
  Collection: CollectionJson,
  CollectionPaper: CollectionPaperJson,
  CollectionWithPapers,
  CollectionImport,
  Follow,
  FollowReason,
  FollowingItem,
  FollowingPage,
  ForYouReason,
  ForYouItem,
  ForYouPage,
  NotInterestedState,
  MutedKeyword,
  ModerationLogEntry,
  ModerationLogPage,
  ModerationDone,
  Report,
  SavedSearch: SavedSearchJson,
  SavedMatchesPage,
} as const;
export type ComponentName = keyof typeof COMPONENTS;

// --- the route table the OpenAPI document is generated from ---

export type HttpMethod = 'get' | 'post' | 'patch' | 'delete';
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 503;

export interface Endpoint {
  /** Default `get`. */
  method?: HttpMethod;
  path: string;
  summary: string;
  description: string;
  query: z.ZodType;
  params?: z.ZodType;
  /** The JSON request body, if the endpoint takes one. */
  body?: z.ZodType;
  /** A request body that is not JSON (a raw email): its media types and what it is. */
  rawBody?: { types: readonly string[]; description: string };
  /** A component, or an array of it (answered with `status`, default 200); `html` for the docs page, `openapi` for the document itself, `empty` for 204. */
  response: { component: ComponentName; array: boolean; status?: 200 | 201 | 202 } | 'html' | 'openapi' | 'empty';
  /** Response headers worth documenting. */
  headers?: Record<string, string>;
  errors: readonly ErrorStatus[];
  /** What an error status means here, where the general description would mislead. */
  errorNotes?: Partial<Record<ErrorStatus, string>>;
  /**
   * Who may call it: anyone (default), a signed-in person, one allowed to write (session + CSRF header, or a
   * write token), the mail provider holding MAIL_WEBHOOK_SECRET, or `open`: a write anyone may make,
   * without credentials (limited per client address instead).
   */
  auth?: 'user' | 'write' | 'mailWebhook' | 'open';
  /** Staff only: the least role that may call it (with `auth`, which says how the caller signs in). */
  minRole?: 'curator' | 'moderator' | 'admin';
  /** An example request path with query. */
  example: string;
}

const CACHED = { 'Cache-Control': 'public, max-age=60', ETag: 'Weak validator; send it back in If-None-Match for a 304.' };

export const ENDPOINTS: readonly Endpoint[] = [
  {
    path: '/api/daily_papers',
    summary: 'Featured papers of a day, week or month',
    description:
      'The daily feed, in the shape of the Hugging Face `daily_papers` API. Without date, week or month it ' +
      'returns the latest day that has featured papers. `p` and `limit` page through the period.',
    query: DailyPapersQuery,
    response: { component: 'DailyPaper', array: true },
    headers: {
      ...CACHED,
      'Last-Modified': 'Latest change among the returned papers.',
      'X-Total-Count': 'Number of papers in the period.',
      Link: '`<…>; rel="next"` when there is a next page.',
    },
    errors: [400],
    example: '/api/daily_papers?date=2007-04-03&sort=trending&limit=2',
  },
  {
    path: '/api/papers',
    summary: 'Every paper, newest first',
    description:
      'All papers by announcement day, newest first (ties by newest addition), with keyset pagination: follow ' +
      'the absolute URL in `Link: <…>; rel="next"` until there is none. Pages stay consistent while papers ' +
      'are added.',
    query: PapersListQuery,
    response: { component: 'Paper', array: true },
    headers: { ...CACHED, 'Last-Modified': 'Latest change among the returned papers.', Link: '`<…>; rel="next"` unless this is the last page.' },
    errors: [400],
    example: '/api/papers?limit=2',
  },
  {
    path: '/api/papers/search',
    summary: 'Search',
    description:
      'Search over titles, authors and abstracts, best match first, in the shape of the Hugging Face `papers/search` API: ' +
      'by keyword (BM25), by meaning, or hybrid (both rankings fused; the default). Limited to 60 requests a minute per client.',
    query: SearchQuery,
    response: { component: 'PaperSearchResult', array: true },
    headers: {
      ...CACHED,
      'X-Search-Mode': 'The mode that ran: keyword, semantic or hybrid.',
      'X-RateLimit-Limit': 'Requests allowed per minute.',
      'X-RateLimit-Remaining': 'Requests left.',
    },
    errors: [400, 429],
    example: '/api/papers/search?q=diphoton&limit=2',
  },
  {
    path: '/api/papers/{id}/similar',
    summary: 'Similar papers',
    description:
      'The papers nearest to this one by meaning (embedding vectors of title and abstract), closest first or re-sorted by ' +
      'recency or popularity. 409 when the paper has no vector yet (it is embedded within minutes of arriving).',
    query: SimilarQuery,
    params: PaperIdParams,
    response: { component: 'SimilarPaper', array: true },
    headers: CACHED,
    errors: [400, 404, 409],
    example: '/api/papers/0704.0001/similar?limit=3',
  },
  {
    path: '/api/papers/{id}',
    summary: 'One paper',
    description: 'A paper by arXiv id, in the shape of the Hugging Face `papers/{id}` API. Old-style ids may be URL-encoded (`hep-th%2F9901001`).',
    query: EmptyQuery,
    params: PaperIdParams,
    response: { component: 'Paper', array: false },
    headers: { ...CACHED, 'Last-Modified': 'When the paper last changed.' },
    errors: [400, 404],
    example: '/api/papers/0704.0001',
  },
  {
    path: '/api/papers/{archive}/{number}',
    summary: 'One paper by old-style id',
    description: 'Old-style arXiv ids contain a slash: `/api/papers/hep-th/9901001`.',
    query: EmptyQuery,
    params: OldStylePaperIdParams,
    response: { component: 'Paper', array: false },
    headers: { ...CACHED, 'Last-Modified': 'When the paper last changed.' },
    errors: [400, 404],
    example: '/api/papers/hep-th/9901001',
  },
  {
    path: '/api/openapi.json',
    summary: 'This API as OpenAPI 3.1',
    description: 'The machine-readable description of every endpoint, generated from the schemas the server validates with.',
    query: EmptyQuery,
    response: 'openapi',
    headers: CACHED,
    errors: [400],
    example: '/api/openapi.json',
  },
  {
    path: '/api/docs',
    summary: 'This documentation',
    description: 'A readable page generated from the OpenAPI document.',
    query: EmptyQuery,
    response: 'html',
    headers: CACHED,
    errors: [400],
    example: '/api/docs',
  },
  ...(['get', 'post', 'delete'] as const).flatMap((method): Endpoint[] => {
    const what = {
      get: { summary: 'Whether you upvote a paper', description: 'Your upvote of a paper and its count; changes nothing.' },
      post: {
        summary: 'Upvote a paper',
        description: 'Adds your upvote (one per person and paper). Idempotent: upvoting again changes nothing and answers 200.',
      },
      delete: {
        summary: 'Remove your upvote',
        description: 'Removes your upvote. Idempotent: removing an upvote that is not there changes nothing and answers 200.',
      },
    }[method];
    const write = method !== 'get';
    const common: Omit<Endpoint, 'path' | 'params' | 'example'> = {
      method,
      ...what,
      description:
        `${what.description} Sign in (a session; writes also need its CSRF token in \`x-csrf-token\`) or send ` +
        `\`Authorization: Bearer <token>\`${write ? ' with a write-scope token. Writes count against the per-person write limit' : ''}.`,
      query: EmptyQuery,
      response: { component: 'UpvoteState', array: false },
      headers: { 'Cache-Control': '`private, no-store`: the answer is yours.' },
      errors: write ? [400, 401, 403, 404, 429] : [400, 401, 404],
      auth: write ? 'write' : 'user',
    };
    return [
      { ...common, path: '/api/papers/{id}/upvote', params: PaperIdParams, example: '/api/papers/0704.0001/upvote' },
      {
        ...common,
        path: '/api/papers/{archive}/{number}/upvote',
        params: OldStylePaperIdParams,
        example: '/api/papers/hep-th/9901001/upvote',
      },
    ];
  }),
  {
    method: 'post',
    path: '/api/papers/submit',
    summary: 'Submit a paper',
    description:
      'Puts a recent arXiv paper on today\'s daily feed (UTC), credited to you as `submittedBy`, and answers with its feed item. ' +
      'Give its id (`2401.01234`, `2401.01234v2`, `hep-th/9901001`) or arxiv.org abs or pdf URL; a paper this instance does not ' +
      'have yet is fetched from arXiv. Its first version must be at most `SUBMISSION_MAX_AGE_DAYS` (default 14) days old (else 422), ' +
      'and it must never have been in the daily papers (else 409, naming the day). Sign in (a session with its CSRF token in ' +
      '`x-csrf-token`) or send `Authorization: Bearer <token>` with a write-scope token. Counts against the per-person submit limit ' +
      '(`RATE_LIMIT_SUBMIT`, default 5 a minute).',
    query: EmptyQuery,
    body: SubmitPaperBody,
    response: { component: 'DailyPaper', array: false, status: 201 },
    headers: { Location: 'The paper in this API (`/api/papers/{id}`).', 'Cache-Control': '`no-store`.' },
    errors: [400, 401, 403, 404, 409, 422, 429, 503],
    auth: 'write',
    example: '/api/papers/submit',
  },
  ...commentEndpoints(),
  ...moderationEndpoints(),
  ...claimEndpoints(),
  ...collectionEndpoints(),
  ...followEndpoints(),
  ...forYouEndpoints(),
  ...mailWebhookEndpoints(),
  ...savedSearchEndpoints(),
  {
    method: 'post',
    path: '/api/subscriptions',
    summary: 'Subscribe an address to the digest',
    description:
      'Asks for the email digest of trending papers at `email`. Double opt-in: the address gets a confirmation link (valid 48 hours, ' +
      'single use) and no digest before it is used. The answer is the same 202 for every well-formed address, new, pending, ' +
      'subscribed or not, so it never tells whether an address is known; an address already subscribed is emailed a note with its ' +
      'preferences link instead. Each address gets at most one such email per 10 minutes (later requests still answer 202). ' +
      'No credentials needed; limited per client address (`RATE_LIMIT_SUBSCRIBE`, default 10 a minute).',
    query: EmptyQuery,
    body: SubscriptionBody,
    response: { component: 'SubscriptionAccepted', array: false, status: 202 },
    headers: { 'Cache-Control': '`no-store`.' },
    errors: [400, 401, 429],
    errorNotes: {
      400: 'The address is malformed, or cadence or categories are invalid; the message says which.',
      401: 'An `Authorization` header with an unknown or revoked token was sent; this endpoint needs none.',
    },
    auth: 'open',
    example: '/api/subscriptions',
  },
];

/** Authorship claims and public profiles. */
function claimEndpoints(): Endpoint[] {
  const write =
    'Sign in (a session with its CSRF token in `x-csrf-token`) or send `Authorization: Bearer <token>` with a write-scope token. ' +
    'Counts against the per-person write limit.';
  const yours = { 'Cache-Control': '`private, no-store`: the answer is yours.' };
  const claimParams = { params: ClaimIdParams, query: EmptyQuery };
  return [
    ...[
      { path: '/api/papers/{id}/claims', params: PaperIdParams, example: '/api/papers/0704.0001/claims' },
      { path: '/api/papers/{archive}/{number}/claims', params: OldStylePaperIdParams, example: '/api/papers/hep-th/9901001/claims' },
    ].map(
      ({ path, params, example }): Endpoint => ({
        method: 'post',
        path,
        summary: 'Claim authorship of a paper',
        description: `Claims that you are one of the paper's authors (\`authorName\`, exactly as listed), pending a curator's decision. One claim per person and paper. ${write}`,
        query: EmptyQuery,
        params,
        body: NewClaimBody,
        response: { component: 'Claim', array: false, status: 201 },
        headers: yours,
        errors: [400, 401, 403, 404, 409, 422, 429],
        errorNotes: { 409: 'You already claimed this paper, or the name is verified as someone else.', 422: 'The name is not one of the paper\'s authors.' },
        auth: 'write',
        example,
      }),
    ),
    {
      path: '/api/claims',
      summary: 'Authorship claims by status',
      description: 'The claims curators decide: `pending` (oldest first) by default, or `verified` / `rejected` (newest first). Curators and above.',
      query: ClaimsQuery,
      response: { component: 'Claim', array: true },
      headers: yours,
      errors: [400, 401, 403],
      auth: 'user',
      minRole: 'curator',
      example: '/api/claims?status=pending',
    },
    {
      path: '/api/claims/mine',
      summary: 'Your authorship claims',
      description: 'Every claim of yours, newest first, with its status and a rejection\'s reason.',
      query: EmptyQuery,
      response: { component: 'Claim', array: true },
      headers: yours,
      errors: [400, 401],
      auth: 'user',
      example: '/api/claims/mine',
    },
    {
      method: 'post',
      path: '/api/claims/{id}/verify',
      summary: 'Verify a claim',
      description: `Verifies the claim (logged in the moderation log; the claimant is emailed). Curators and above, never on their own claim. ${write}`,
      ...claimParams,
      response: { component: 'Claim', array: false },
      headers: yours,
      errors: [400, 401, 403, 404, 409, 429],
      errorNotes: { 409: 'The claim is verified already, or someone else is verified for the name.' },
      auth: 'write',
      minRole: 'curator',
      example: '/api/claims/3/verify',
    },
    {
      method: 'post',
      path: '/api/claims/{id}/reject',
      summary: 'Reject a claim',
      description: `Rejects the claim with a reason the claimant sees (logged; emailed). Curators and above. ${write}`,
      ...claimParams,
      body: ClaimRejectBody,
      response: { component: 'Claim', array: false },
      headers: yours,
      errors: [400, 401, 403, 404, 409, 429],
      auth: 'write',
      minRole: 'curator',
      example: '/api/claims/3/reject',
    },
    {
      method: 'patch',
      path: '/api/claims/{id}',
      summary: 'Show or hide a verified paper on your profile',
      description: `Your own verified claim only (another person's claim is 404). ${write}`,
      ...claimParams,
      body: ClaimPatchBody,
      response: { component: 'Claim', array: false },
      headers: yours,
      errors: [400, 401, 403, 404, 409, 429],
      auth: 'write',
      example: '/api/claims/3',
    },
    {
      method: 'delete',
      path: '/api/claims/{id}',
      summary: 'Withdraw a claim',
      description: `Withdraws your own claim, whatever its status (another person's claim is 404). ${write}`,
      ...claimParams,
      response: 'empty',
      errors: [400, 401, 403, 404, 429],
      auth: 'write',
      example: '/api/claims/3',
    },
    {
      path: '/api/users/{username}',
      summary: 'A public profile',
      description: 'What the profile page shows: verified papers, submissions, public collections and recent comments. Never the email address.',
      query: EmptyQuery,
      params: UsernameParams,
      response: { component: 'UserProfile', array: false },
      headers: { 'Cache-Control': '`no-cache`.' },
      errors: [400, 404],
      example: '/api/users/ada',
    },
  ];
}

/** Follows and the Following feed: all about the caller's own follows. */
function followEndpoints(): Endpoint[] {
  const signIn = 'Sign in (a session) or send `Authorization: Bearer <token>`.';
  const write =
    'Sign in (a session with its CSRF token in `x-csrf-token`) or send `Authorization: Bearer <token>` with a write-scope token. ' +
    'Counts against the per-person write limit.';
  const yours = { 'Cache-Control': '`private, no-store`: the answer is yours.' };
  return [
    {
      path: '/api/follows',
      summary: 'What you follow',
      description: `Your follows, by kind (authors, categories, users, keywords), oldest first. ${signIn}`,
      query: EmptyQuery,
      response: { component: 'Follow', array: true },
      headers: yours,
      errors: [400, 401],
      auth: 'user',
      example: '/api/follows',
    },
    {
      method: 'post',
      path: '/api/follows',
      summary: 'Follow an author, category, user or keyword search',
      description:
        'Follows something; its new papers (last 90 days) appear in `GET /api/following`. Answers 201 with the new follow, or 200 with the ' +
        'existing one when you follow it already. At most 500 follows per person, 50 of them keyword searches (409 beyond). ' +
        write,
      query: EmptyQuery,
      body: FollowBody,
      response: { component: 'Follow', array: false, status: 201 },
      headers: yours,
      errors: [400, 401, 403, 409, 422, 429],
      errorNotes: {
        409: 'You follow as many things (or keyword searches) as one person may.',
        422: 'No paper has that author name, the category or user is unknown, you tried to follow yourself, or the search has no searchable terms.',
      },
      auth: 'write',
      example: '/api/follows',
    },
    {
      method: 'delete',
      path: '/api/follows/{id}',
      summary: 'Unfollow',
      description: `Deletes one of your follows (another person's is 404). ${write}`,
      query: EmptyQuery,
      params: FollowIdParams,
      response: 'empty',
      errors: [400, 401, 403, 404, 429],
      auth: 'write',
      example: '/api/follows/7',
    },
    {
      path: '/api/following',
      summary: 'Your Following feed',
      description:
        'Papers of the last 90 days (by announcement day, else first submission) by authors, in categories, from people (submitted, ' +
        'verified authorship, in their public collections) and matching keyword searches you follow, newest first, each with every reason. ' +
        `Keyset pagination: pass \`next\` as \`before\`. ${signIn}`,
      query: FollowingQuery,
      response: { component: 'FollowingPage', array: false },
      headers: yours,
      errors: [400, 401],
      auth: 'user',
      example: '/api/following?limit=10',
    },
  ];
}

/** For you, "not interested" and muted keywords: all about the caller's own. */
function forYouEndpoints(): Endpoint[] {
  const signIn = 'Sign in (a session) or send `Authorization: Bearer <token>`.';
  const write =
    'Sign in (a session with its CSRF token in `x-csrf-token`) or send `Authorization: Bearer <token>` with a write-scope token. ' +
    'Counts against the per-person write limit.';
  const yours = { 'Cache-Control': '`private, no-store`: the answer is yours.' };
  const notInterested = (method: 'post' | 'delete'): Endpoint[] => {
    const what =
      method === 'post'
        ? {
            summary: 'Not interested in a paper',
            description:
              'Marks the paper "not interested": it leaves your feeds (daily, week, month, trending, categories, Following, For you), ' +
              'your search results and your email digest, and For you ranks papers like it lower. Idempotent. ',
          }
        : { summary: 'Show a paper again', description: 'Undoes "not interested". Idempotent. ' };
    const common = { method, ...what, query: EmptyQuery, response: { component: 'NotInterestedState' as const, array: false }, headers: yours };
    return [
      { ...common, description: what.description + write, path: '/api/papers/{id}/not-interested', params: PaperIdParams, errors: [400, 401, 403, 404, 429], auth: 'write', example: '/api/papers/0704.0001/not-interested' },
      {
        ...common,
        description: what.description + write,
        path: '/api/papers/{archive}/{number}/not-interested',
        params: OldStylePaperIdParams,
        errors: [400, 401, 403, 404, 429],
        auth: 'write',
        example: '/api/papers/hep-th/9901001/not-interested',
      },
    ];
  };
  return [
    {
      path: '/api/for-you',
      summary: 'Your For you list',
      description:
        'Recent papers ranked for you from what you upvoted, saved in collections, wrote (verified claims) and follow, against what you marked ' +
        '"not interested"; papers matching your muted keywords are left out. Each paper has its reasons, strongest first. With an embedding model ' +
        'papers are ranked by meaning (similarity to your papers); before one exists, by follows and shared authors and categories (`semantic` says which). ' +
        signIn,
      query: ForYouQuery,
      response: { component: 'ForYouPage', array: false },
      headers: yours,
      errors: [400, 401],
      auth: 'user',
      example: '/api/for-you?limit=10',
    },
    ...notInterested('post'),
    ...notInterested('delete'),
    {
      path: '/api/muted-keywords',
      summary: 'Your muted keywords',
      description: `Words and phrases whose papers you never see in feeds, search results, For you and your digest, oldest first. ${signIn}`,
      query: EmptyQuery,
      response: { component: 'MutedKeyword', array: true },
      headers: yours,
      errors: [400, 401],
      auth: 'user',
      example: '/api/muted-keywords',
    },
    {
      method: 'post',
      path: '/api/muted-keywords',
      summary: 'Mute a keyword',
      description:
        'Mutes a word or phrase, matched case-insensitively as whole words in titles and abstracts. Answers 201, or 200 when it is muted already ' +
        `(in any spelling). At most 100 per person (409 beyond). ${write}`,
      query: EmptyQuery,
      body: MutedKeywordBody,
      response: { component: 'MutedKeyword', array: false, status: 201 },
      headers: yours,
      errors: [400, 401, 403, 409, 429],
      auth: 'write',
      example: '/api/muted-keywords',
    },
    {
      method: 'delete',
      path: '/api/muted-keywords/{keyword}',
      summary: 'Unmute a keyword',
      description: `Unmutes a keyword of yours (any spelling; 404 if you do not mute it). ${write}`,
      query: EmptyQuery,
      params: MutedKeywordParams,
      response: 'empty',
      errors: [400, 401, 403, 404, 429],
      auth: 'write',
      example: '/api/muted-keywords/survey',
    },
  ];
}

/** The mail webhook: bounces, complaints and unsubscribes, as JSON events or as the returned messages themselves. */
function mailWebhookEndpoints(): Endpoint[] {
  const auth =
    'Send `Authorization: Bearer <MAIL_WEBHOOK_SECRET>`; the endpoint does not exist (404) while that secret is not configured.';
  const common = {
    method: 'post',
    query: EmptyQuery,
    headers: { 'Cache-Control': '`no-store`.' },
    auth: 'mailWebhook',
    errorNotes: {
      401: 'The `Authorization: Bearer` header is missing or is not MAIL_WEBHOOK_SECRET.',
      404: 'MAIL_WEBHOOK_SECRET is not configured: the webhook is off.',
      413: 'The body is over 1 MB.',
    },
  } as const;
  return [
    {
      ...common,
      path: '/api/mail/events',
      summary: 'Report bounces, complaints and unsubscribes',
      description:
        'For a mail provider\'s webhook (through a small adapter to this shape) or an inbound mail pipe. Every event is recorded; ' +
        'a hard bounce or a complaint suppresses the address at once (it never gets a digest again), soft bounces once there were ' +
        '`SOFT_BOUNCE_LIMIT` (default 3) within 30 days, and an unsubscribe ends the subscription (by address, or by the link token ' +
        `of a digest's List-Unsubscribe mailto). 1 to 500 events; all are recorded or none. ${auth}`,
      body: MailEventsBody,
      response: { component: 'MailEventsResult', array: false },
      errors: [400, 401, 404, 413],
      example: '/api/mail/events',
    },
    {
      ...common,
      path: '/api/mail/dsn',
      summary: 'Hand in a returned message',
      description:
        'The raw message that came back to the digest sender, as the MTA received it (`Content-Type: message/rfc822`, or ' +
        '`text/plain`, `application/octet-stream`; at most 1 MB): a delivery status notification (RFC 3464) gives a bounce per ' +
        'failed recipient (5.x.x hard, else soft; delays count for nothing), an abuse feedback report (ARF, RFC 5965) a complaint, and ' +
        'a mail from a digest\'s List-Unsubscribe mailto (`Subject: unsubscribe <token>`) an unsubscribe. Anything else (an ' +
        'out-of-office reply, spam) answers 200 with `report: null` and records nothing, so an MTA pipe never bounces it back. ' +
        `E.g. \`curl --data-binary @bounce.eml -H 'Content-Type: message/rfc822' …\`. ${auth}`,
      rawBody: { types: ['message/rfc822', 'text/plain', 'application/octet-stream'], description: 'The whole message, headers and body.' },
      response: { component: 'MailReportResult', array: false },
      errors: [400, 401, 404, 413, 415],
      example: '/api/mail/dsn',
    },
  ];
}

/** The comment endpoints: a paper's thread (new- and old-style ids) and single comments. */
function commentEndpoints(): Endpoint[] {
  const write =
    'Sign in (a session with its CSRF token in `x-csrf-token`) or send `Authorization: Bearer <token>` with a write-scope token.';
  const limited = 'Counts against the per-person write limit (`RATE_LIMIT_WRITE`, default 60 a minute).';
  const noCache = { 'Cache-Control': '`no-cache`: comments change at any time; revalidate with the ETag.' };
  const papers = [
    { path: '/api/papers/{id}/comments', params: PaperIdParams, example: '/api/papers/0704.0001/comments' },
    { path: '/api/papers/{archive}/{number}/comments', params: OldStylePaperIdParams, example: '/api/papers/hep-th/9901001/comments' },
  ];
  return [
    ...papers.flatMap(({ path, params, example }): Endpoint[] => [
      {
        path,
        summary: "A paper's comments",
        description:
          'The discussion of a paper, flat and oldest first; `parentId` links each reply to its parent. A deleted comment ' +
          'appears (as a tombstone) only while replies hang under it.',
        query: EmptyQuery,
        params,
        response: { component: 'Comment', array: true },
        headers: noCache,
        errors: [400, 404],
        example,
      },
      {
        method: 'post',
        path,
        summary: 'Comment on a paper',
        description: `Adds a comment, or a reply to \`parentId\` (a comment on the same paper that is not deleted, else 400 or 409). People it mentions as \`@username\`, and the author of the parent, are notified. ${write} ${limited}`,
        query: EmptyQuery,
        params,
        body: NewCommentBody,
        response: { component: 'Comment', array: false, status: 201 },
        headers: { Location: 'The new comment in this API (`/api/comments/{id}`).', 'Cache-Control': '`no-store`.' },
        errors: [400, 401, 403, 404, 409, 429],
        auth: 'write',
        example,
      },
    ]),
    {
      path: '/api/comments/{id}',
      summary: 'One comment with its history',
      description: 'A comment and every earlier version of its body, oldest first.',
      query: EmptyQuery,
      params: CommentIdParams,
      response: { component: 'CommentWithHistory', array: false },
      headers: noCache,
      errors: [400, 404],
      example: '/api/comments/1',
    },
    {
      method: 'patch',
      path: '/api/comments/{id}',
      summary: 'Edit your comment',
      description: `Replaces the body of your own comment (403 for anyone else's, 409 once deleted); the previous body is kept as a revision and the comment is marked edited. Newly mentioned people are notified. ${write} ${limited}`,
      query: EmptyQuery,
      params: CommentIdParams,
      body: CommentEditBody,
      response: { component: 'Comment', array: false },
      headers: { 'Cache-Control': '`no-store`.' },
      errors: [400, 401, 403, 404, 409, 429],
      auth: 'write',
      example: '/api/comments/1',
    },
    {
      method: 'delete',
      path: '/api/comments/{id}',
      summary: 'Delete your comment',
      description: `Deletes your own comment (403 for anyone else's): its body and history are removed, replies stay under a "[deleted]" tombstone. Deleting again changes nothing. ${write}`,
      query: EmptyQuery,
      params: CommentIdParams,
      response: 'empty',
      errors: [400, 401, 403, 404],
      auth: 'write',
      example: '/api/comments/1',
    },
  ];
}

/** The collection endpoints: yours, one collection, its papers and a BibTeX import. */
function collectionEndpoints(): Endpoint[] {
  const signIn = 'Sign in (a session) or send `Authorization: Bearer <token>`.';
  const write =
    'Sign in (a session with its CSRF token in `x-csrf-token`) or send `Authorization: Bearer <token>` with a write-scope token. ' +
    'Counts against the per-person write limit.';
  const noStore = { 'Cache-Control': '`private, no-store`.' };
  const hidden = {
    403: 'The collection is public but not yours: only its owner changes it.',
    404: "No such collection, or another person's private one (they are never revealed), or no such paper.",
  };
  return [
    {
      path: '/api/collections',
      summary: 'Your collections',
      description: `Your collections, private and public, most recently changed first. ${signIn}`,
      query: EmptyQuery,
      response: { component: 'Collection', array: true },
      headers: noStore,
      errors: [400, 401],
      auth: 'user',
      example: '/api/collections',
    },
    {
      method: 'post',
      path: '/api/collections',
      summary: 'Create a collection',
      description: `A new collection, private unless \`public\` is true. At most ${MAX_COLLECTIONS} per person (else 422). ${write}`,
      query: EmptyQuery,
      body: NewCollectionBody,
      response: { component: 'CollectionWithPapers', array: false, status: 201 },
      headers: { Location: 'The new collection in this API.', ...noStore },
      errors: [400, 401, 403, 422, 429],
      auth: 'write',
      example: '/api/collections',
    },
    {
      path: '/api/collections/{id}',
      summary: 'One collection with its papers',
      description: "A public collection, or one of yours, with its papers in order and your notes. Another person's private collection is 404.",
      query: EmptyQuery,
      params: CollectionIdParams,
      response: { component: 'CollectionWithPapers', array: false },
      headers: noStore,
      errors: [400, 404],
      errorNotes: hidden,
      example: '/api/collections/1',
    },
    {
      method: 'patch',
      path: '/api/collections/{id}',
      summary: 'Change a collection',
      description: `Renames it, changes its description or visibility, or reorders its papers (\`order\`: every paper once, else 422). ${write}`,
      query: EmptyQuery,
      params: CollectionIdParams,
      body: CollectionPatchBody,
      response: { component: 'CollectionWithPapers', array: false },
      headers: noStore,
      errors: [400, 401, 403, 404, 422, 429],
      errorNotes: hidden,
      auth: 'write',
      example: '/api/collections/1',
    },
    {
      method: 'delete',
      path: '/api/collections/{id}',
      summary: 'Delete a collection',
      description: `Deletes your collection (the papers stay). ${write}`,
      query: EmptyQuery,
      params: CollectionIdParams,
      response: 'empty',
      errors: [400, 401, 403, 404, 429],
      errorNotes: hidden,
      auth: 'write',
      example: '/api/collections/1',
    },
    {
      method: 'post',
      path: '/api/collections/{id}/papers/{paperId}',
      summary: 'Add a paper to a collection',
      description:
        `Adds the paper at the end (or at \`position\`), with an optional note: 201. A paper already there gets the new note ` +
        `(and place, when given): 200. At most ${MAX_COLLECTION_PAPERS} papers per collection (else 422). ${write}`,
      query: EmptyQuery,
      params: CollectionPaperParams,
      body: CollectionPaperBody,
      response: { component: 'CollectionPaper', array: false, status: 201 },
      headers: noStore,
      errors: [400, 401, 403, 404, 422, 429],
      errorNotes: hidden,
      auth: 'write',
      example: '/api/collections/1/papers/2106.09685',
    },
    {
      method: 'delete',
      path: '/api/collections/{id}/papers/{paperId}',
      summary: 'Remove a paper from a collection',
      description: `Takes the paper out of your collection (404 when it is not there). ${write}`,
      query: EmptyQuery,
      params: CollectionPaperParams,
      response: 'empty',
      errors: [400, 401, 403, 404, 429],
      errorNotes: hidden,
      auth: 'write',
      example: '/api/collections/1/papers/2106.09685',
    },
    {
      method: 'post',
      path: '/api/collections/{id}/import',
      summary: 'Import a BibTeX file into a collection',
      description:
        'Reads the .bib file in the body (at most 1 MB) and adds every entry that names a paper of this instance, by arXiv id ' +
        '(`eprint` with `archivePrefix = arXiv`, an `arxiv` field, arxiv.org URLs, "arXiv:…" in `journal` or `note`), else by DOI ' +
        '(`doi`, doi.org URLs; case-insensitive), at the end of the collection. The answer lists the entries added, those already ' +
        `there and those not matched or not readable, by citation key and line. ${write}`,
      query: EmptyQuery,
      params: CollectionIdParams,
      rawBody: { types: ['application/x-bibtex', 'text/plain'], description: 'The BibTeX file.' },
      response: { component: 'CollectionImport', array: false },
      headers: noStore,
      errors: [400, 401, 403, 404, 413, 415, 429],
      errorNotes: hidden,
      auth: 'write',
      example: '/api/collections/1/import',
    },
  ];
}

/** Curation and moderation: feature, lock, hide, report, and the public log. */
function moderationEndpoints(): Endpoint[] {
  const write = 'A session with its CSRF token in `x-csrf-token`, or a write-scope token.';
  const papers = [
    { base: '/api/papers/{id}', params: PaperIdParams, example: '/api/papers/0704.0001' },
    { base: '/api/papers/{archive}/{number}', params: OldStylePaperIdParams, example: '/api/papers/hep-th/9901001' },
  ];
  const done = { component: 'ModerationDone', array: false } as const;
  return [
    ...papers.flatMap(({ base, params, example }): Endpoint[] => [
      {
        method: 'post',
        path: `${base}/feature`,
        summary: 'Feature a paper (curators)',
        description: `Puts the paper on the daily feed of \`day\` (default today), credited to you, and logs it with the reason. A paper already featured by a person is 409 (unfeature it first). ${write}`,
        query: EmptyQuery,
        params,
        body: FeatureBody,
        response: done,
        errors: [400, 401, 403, 404, 409, 429],
        auth: 'write',
        minRole: 'curator',
        example: `${example}/feature`,
      },
      {
        method: 'delete',
        path: `${base}/feature`,
        summary: 'Unfeature a paper (curators)',
        description: `Takes the paper off the feeds (409 when it is not featured), logged with the reason. ${write}`,
        query: EmptyQuery,
        params,
        body: ModerationReasonBody,
        response: done,
        errors: [400, 401, 403, 404, 409, 429],
        auth: 'write',
        minRole: 'curator',
        example: `${example}/feature`,
      },
      {
        method: 'post',
        path: `${base}/lock`,
        summary: 'Lock a discussion (moderators)',
        description: `No new comments or replies on the paper until it is unlocked (409 when already locked); the page shows the reason. ${write}`,
        query: EmptyQuery,
        params,
        body: ModerationReasonBody,
        response: done,
        errors: [400, 401, 403, 404, 409, 429],
        auth: 'write',
        minRole: 'moderator',
        example: `${example}/lock`,
      },
      {
        method: 'delete',
        path: `${base}/lock`,
        summary: 'Unlock a discussion (moderators)',
        description: `Opens the discussion again (409 when it is not locked). ${write}`,
        query: EmptyQuery,
        params,
        body: ModerationReasonBody,
        response: done,
        errors: [400, 401, 403, 404, 409, 429],
        auth: 'write',
        minRole: 'moderator',
        example: `${example}/lock`,
      },
    ]),
    {
      method: 'post',
      path: '/api/comments/{id}/reports',
      summary: 'Report a comment',
      description: `Asks the moderators to look at someone else's comment (403 for your own, 409 when you reported it already). ${write} Counts against the per-person write limit.`,
      query: EmptyQuery,
      params: CommentIdParams,
      body: ReportBody,
      response: { component: 'Report', array: false, status: 201 },
      errors: [400, 401, 403, 404, 409, 429],
      auth: 'write',
      example: '/api/comments/1/reports',
    },
    {
      method: 'post',
      path: '/api/comments/{id}/hide',
      summary: 'Hide a comment (moderators)',
      description: `Shows the reason in place of the comment to everyone but its author and the moderators; resolves its open reports. 403 on a comment by someone of your role or higher, 409 when already hidden. ${write}`,
      query: EmptyQuery,
      params: CommentIdParams,
      body: ModerationReasonBody,
      response: done,
      errors: [400, 401, 403, 404, 409, 429],
      auth: 'write',
      minRole: 'moderator',
      example: '/api/comments/1/hide',
    },
    {
      method: 'delete',
      path: '/api/comments/{id}/hide',
      summary: 'Show a hidden comment again (moderators)',
      description: `Undoes a hide (409 when it is not hidden). ${write}`,
      query: EmptyQuery,
      params: CommentIdParams,
      body: ModerationReasonBody,
      response: done,
      errors: [400, 401, 403, 404, 409, 429],
      auth: 'write',
      minRole: 'moderator',
      example: '/api/comments/1/hide',
    },
    {
      path: '/api/moderation',
      summary: 'The public moderation log',
      description: 'Every action of curators, moderators and admins, newest first, with who, what and why. Page with `before` = the previous page\'s `next`.',
      query: ModerationLogQuery,
      response: { component: 'ModerationLogPage', array: false },
      errors: [400],
      example: '/api/moderation?limit=20&action=hide_comment',
    },
  ];
}

// --- OpenAPI generation ---

type JsonSchema = Record<string, unknown>;

const COMPONENT_REF = (id: string): string => `#/components/schemas/${id}`;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function componentSchemas(): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(COMPONENTS)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { uri: COMPONENT_REF, target: 'draft-2020-12', unrepresentable: 'any' });
  const out: Record<string, JsonSchema> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    // Components are embedded in the document: no $schema or $id of their own.
    const { $schema: _s, $id: _i, ...rest } = schema as JsonSchema;
    out[id] = rest;
  }
  return out;
}

interface Parameter {
  name: string;
  in: 'query' | 'path';
  required: boolean;
  description?: string;
  schema: JsonSchema;
}

/** OpenAPI parameter objects for the properties of an object schema. */
export function parametersOf(schema: z.ZodType, location: 'query' | 'path'): Parameter[] {
  const json = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' }) as JsonSchema;
  const properties = isRecord(json.properties) ? json.properties : {};
  const required = new Set(Array.isArray(json.required) ? (json.required as string[]) : []);
  return Object.entries(properties).map(([name, value]) => {
    const { description, ...rest } = isRecord(value) ? value : {};
    return {
      name,
      in: location,
      required: location === 'path' || required.has(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
    };
  });
}

const ERROR_RESPONSES: Record<ErrorStatus, { description: string; headers?: JsonSchema }> = {
  400: { description: 'Invalid request: unknown or malformed parameters; the message lists every problem.' },
  401: { description: 'No credentials: sign in, or send a personal API token as `Authorization: Bearer <token>`.' },
  403: { description: 'Not allowed: a read-only token, a session request without its CSRF token, or not yours to change.' },
  404: { description: 'Not found: no such paper (or comment); the message says which.' },
  409: { description: 'Conflict with the current state.' },
  413: { description: 'The request body is too large.' },
  415: { description: 'The request body is not of a media type this endpoint reads.' },
  422: { description: 'Understood, but refused by a rule; the message says which.' },
  429: {
    description: 'Too many requests.',
    headers: { 'Retry-After': { description: 'Seconds until a request is allowed again.', schema: { type: 'integer' } } },
  },
  503: {
    description: 'A service this request needs (arXiv) cannot be reached right now.',
    headers: { 'Retry-After': { description: 'Seconds after which to try again.', schema: { type: 'integer' } } },
  },
};

/** An OpenAPI request body: the schema's JSON form, as the client sends it. */
function requestBodyOf(schema: z.ZodType): JsonSchema {
  const { $schema: _s, ...json } = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' }) as JsonSchema;
  return { required: true, content: { 'application/json': { schema: json } } };
}

/** An OpenAPI request body of raw bytes (a message), the same under each media type. */
function rawRequestBody(raw: { types: readonly string[]; description: string }): JsonSchema {
  const schema = { type: 'string', contentMediaType: raw.types[0], description: raw.description };
  return { required: true, description: raw.description, content: Object.fromEntries(raw.types.map((type) => [type, { schema }])) };
}

function describedHeaders(headers: Record<string, string> | undefined): JsonSchema | undefined {
  if (headers === undefined) return undefined;
  return Object.fromEntries(Object.entries(headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }]));
}

/** The OpenAPI 3.1 document of the API, generated from {@link ENDPOINTS} and the schemas above. */
export function openApiDocument(baseUrl: string): JsonSchema {
  const paths: Record<string, JsonSchema> = {};
  for (const endpoint of ENDPOINTS) {
    const parameters = [
      ...(endpoint.params === undefined ? [] : parametersOf(endpoint.params, 'path')),
      ...parametersOf(endpoint.query, 'query'),
    ];
    const ok =
      endpoint.response === 'empty'
        ? undefined
        : endpoint.response === 'html'
          ? { 'text/html': { schema: { type: 'string' } } }
          : endpoint.response === 'openapi'
            ? { 'application/json': { schema: { type: 'object', description: 'An OpenAPI 3.1 document.' } } }
            : {
                'application/json': {
                  schema: endpoint.response.array
                    ? { type: 'array', items: { $ref: COMPONENT_REF(endpoint.response.component) } }
                    : { $ref: COMPONENT_REF(endpoint.response.component) },
                },
              };
    const method = endpoint.method ?? 'get';
    const status = endpoint.response === 'empty' ? 204 : typeof endpoint.response === 'object' ? (endpoint.response.status ?? 200) : 200;
    const responses: Record<string, JsonSchema> = {
      [status]: {
        description: status === 201 ? 'Created' : status === 202 ? 'Accepted' : status === 204 ? 'Done; no content.' : 'OK',
        headers: describedHeaders(endpoint.headers),
        ...(ok === undefined ? {} : { content: ok }),
      },
      // Personal answers are never cached, so they have no ETag to revalidate.
      ...(endpoint.auth === undefined ? { 304: { description: 'Not modified: the If-None-Match ETag still matches.' } } : {}),
    };
    for (const status of endpoint.errors) {
      const note = endpoint.errorNotes?.[status];
      responses[status] = {
        ...ERROR_RESPONSES[status],
        ...(note === undefined ? {} : { description: note }),
        content: { 'application/json': { schema: { $ref: COMPONENT_REF('Error') } } },
      };
    }
    paths[endpoint.path] = {
      ...paths[endpoint.path],
      [method]: {
        operationId: operationId(method, endpoint.path),
        summary: endpoint.summary,
        description: endpoint.description,
        parameters,
        ...(endpoint.body === undefined ? {} : { requestBody: requestBodyOf(endpoint.body) }),
        ...(endpoint.rawBody === undefined ? {} : { requestBody: rawRequestBody(endpoint.rawBody) }),
        responses,
        ...(endpoint.auth === undefined ? {} : { security: securityOf(endpoint.auth) }),
        ...(endpoint.minRole === undefined ? {} : { 'x-min-role': endpoint.minRole }),
        'x-example-request': endpoint.example,
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Paperboy API',
      version: '1',
      description:
        'JSON API of this Paperboy instance: reads for anyone, writes for signed-in people and personal API tokens. Paper lists keep the shapes of the Hugging Face papers API, ' +
        'so its clients work unchanged; fields marked as Paperboy extensions are additions.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: baseUrl }],
    paths,
    components: { schemas: componentSchemas(), securitySchemes: SECURITY_SCHEMES },
  };
}

/** How a caller proves who they are: a personal API token, or the browser's session cookie. */
const SECURITY_SCHEMES = {
  bearerToken: { type: 'http', scheme: 'bearer', description: 'A personal API token (`pb_…`); writes need the write scope.' },
  session: {
    type: 'apiKey',
    in: 'cookie',
    name: 'paperboy_session',
    description: 'A signed-in browser (`__Host-paperboy_session` over HTTPS); writes also send the CSRF token in `x-csrf-token`.',
  },
  mailWebhookSecret: {
    type: 'http',
    scheme: 'bearer',
    description: 'The instance\'s MAIL_WEBHOOK_SECRET, shared with the mail provider or inbound mail pipe (not a personal token).',
  },
};
const SECURITY = [{ bearerToken: [] }, { session: [] }];
const MAIL_WEBHOOK_SECURITY = [{ mailWebhookSecret: [] }];
// An empty requirement: no credentials needed (OpenAPI's way to say "anyone").
const OPEN_SECURITY = [{}];

function securityOf(auth: NonNullable<Endpoint['auth']>): JsonSchema[] {
  return auth === 'mailWebhook' ? MAIL_WEBHOOK_SECURITY : auth === 'open' ? OPEN_SECURITY : SECURITY;
}

function operationId(method: HttpMethod, path: string): string {
  const words = path
    .replace(/^\/api\//, '')
    .replace(/\.json$/, '')
    .split(/[/_{}]+/)
    .filter(Boolean);
  return [method, ...words].map((w, i) => (i === 0 ? w : w.charAt(0).toUpperCase() + w.slice(1))).join('');
}

// --- validation errors ---

/** One message naming every problem of a failed parse (`limit: must be at most 100; unknown parameter foo`). */
export function describeIssues(error: z.ZodError, allowed: readonly string[]): string {
  const problems = error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const list = issue.keys.join(', ');
      const known = allowed.length > 0 ? ` (known: ${allowed.join(', ')})` : ' (this endpoint takes none)';
      return `unknown parameter${issue.keys.length > 1 ? 's' : ''} ${list}${known}`;
    }
    const path = issue.path.map(String).join('.');
    return path === '' ? issue.message : `${path}: ${issue.message}`;
  });
  return `Invalid request: ${problems.join('; ')}.`;
}

/** The parameter names an object schema accepts. */
export function knownKeys(schema: z.ZodType): string[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return isRecord(json.properties) ? Object.keys(json.properties) : [];
}
