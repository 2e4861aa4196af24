/**
 * Authorship claims: "I am this author of this paper". A signed-in person
 * claims one of a paper's parsed author names (exactly as in paper_authors);
 * a curator verifies or rejects the claim, a rejection with a reason the
 * claimant sees. A verified claim puts the paper on the person's profile
 * (unless they hide it), links the name on the paper page to them and badges
 * their comments under that paper.
 *
 * One claim per person and paper; one verified person per author name of a
 * paper (a unique index backs both, so a race ends in a 409, not a second
 * verified author). Decisions are moderation actions: logged in the same
 * transaction, and the claimant is emailed.
 */
import type { Kysely } from 'kysely';
import type { Viewer } from '../accounts/users.js';
import type { AppContext } from '../context.js';
import type { Database } from '../db/connection.js';
import type { ClaimStatus, DB } from '../db/schema.js';
import { mailerFor } from '../mail/mailer.js';
import { recordModeration } from '../moderation/log.js';

export const CLAIM_STATUSES: readonly ClaimStatus[] = ['pending', 'verified', 'rejected'];
export const MAX_EVIDENCE = 500;
export const MAX_REASON = 500;

/** A claim with its paper and claimant, as pages and the API show it. */
export interface Claim {
  id: number;
  paperId: number;
  arxivId: string;
  paperTitle: string;
  userId: number;
  username: string;
  authorName: string;
  evidence: string;
  status: ClaimStatus;
  /** Why it was rejected; null unless rejected. */
  reason: string | null;
  decidedAt: string | null;
  showOnProfile: boolean;
  createdAt: string;
}

/** Why a claim request was refused: the HTTP status and a message for the person. */
export interface ClaimRefusal {
  ok: false;
  status: 400 | 403 | 404 | 409 | 422;
  message: string;
}

export type ClaimOutcome = { ok: true; claim: Claim } | ClaimRefusal;

const refuse = (status: ClaimRefusal['status'], message: string): ClaimRefusal => ({ ok: false, status, message });
const notFound = (id: number): ClaimRefusal => refuse(404, `There is no claim ${id} of yours.`);

function claimQuery(db: Kysely<DB>) {
  return db
    .selectFrom('author_claims as c')
    .innerJoin('papers as p', 'p.id', 'c.paper_id')
    .innerJoin('users as u', 'u.id', 'c.user_id')
    .select([
      'c.id',
      'c.paper_id',
      'p.arxiv_id',
      'p.title_text',
      'c.user_id',
      'u.username',
      'c.author_name',
      'c.evidence',
      'c.status',
      'c.reason',
      'c.decided_at',
      'c.show_on_profile',
      'c.created_at',
    ]);
}

type ClaimRow = Awaited<ReturnType<ReturnType<typeof claimQuery>['executeTakeFirstOrThrow']>>;

function claimFromRow(r: ClaimRow): Claim {
  return {
    id: Number(r.id),
    paperId: Number(r.paper_id),
    arxivId: r.arxiv_id,
    paperTitle: r.title_text,
    userId: Number(r.user_id),
    username: r.username,
    authorName: r.author_name,
    evidence: r.evidence,
    status: r.status,
    reason: r.status === 'rejected' ? r.reason : null,
    decidedAt: r.decided_at,
    showOnProfile: Number(r.show_on_profile) === 1,
    createdAt: r.created_at,
  };
}

/** A claim by id, or undefined. */
export async function findClaim(db: Kysely<DB>, id: number): Promise<Claim | undefined> {
  const row = await claimQuery(db).where('c.id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : claimFromRow(row);
}

/** The paper's parsed author names, in order. */
export async function authorNamesOf(database: Database, paperId: number): Promise<string[]> {
  const rows = await database.db.selectFrom('paper_authors').select('name').where('paper_id', '=', paperId).orderBy('position').execute();
  return rows.map((r) => r.name);
}

/** Verified authors of a paper: parsed author name → the person verified for it. */
export async function verifiedAuthorsOf(database: Database, paperId: number): Promise<Map<string, { userId: number; username: string }>> {
  const rows = await database.db
    .selectFrom('author_claims as c')
    .innerJoin('users as u', 'u.id', 'c.user_id')
    .select(['c.author_name', 'c.user_id', 'u.username'])
    .where('c.paper_id', '=', paperId)
    .where('c.status', '=', 'verified')
    .orderBy('c.id')
    .execute();
  return new Map(rows.map((r) => [r.author_name, { userId: Number(r.user_id), username: r.username }]));
}

/** The verified person(s) for an author name on any paper, for author pages. */
export async function verifiedPeopleNamed(database: Database, name: string): Promise<{ username: string; papers: number }[]> {
  const rows = await database.db
    .selectFrom('author_claims as c')
    .innerJoin('users as u', 'u.id', 'c.user_id')
    .select(['u.username', (eb) => eb.fn.countAll<number | string>().as('n')])
    .where('c.author_name', '=', name)
    .where('c.status', '=', 'verified')
    .groupBy('u.username')
    .orderBy('u.username')
    .execute();
  return rows.map((r) => ({ username: r.username, papers: Number(r.n) }));
}

/** `userId`'s claim on a paper, if any. */
export async function claimOnPaper(database: Database, userId: number, paperId: number): Promise<Claim | undefined> {
  const row = await claimQuery(database.db).where('c.paper_id', '=', paperId).where('c.user_id', '=', userId).executeTakeFirst();
  return row === undefined ? undefined : claimFromRow(row);
}

/** Every claim of a person, newest first. */
export async function claimsOf(database: Database, userId: number): Promise<Claim[]> {
  const rows = await claimQuery(database.db).where('c.user_id', '=', userId).orderBy('c.id', 'desc').execute();
  return rows.map(claimFromRow);
}

/** Verified claims a profile shows: all of them for the owner (with toggles), else those shown on the profile. */
export async function profileClaims(database: Database, userId: number, includeHidden: boolean): Promise<Claim[]> {
  let query = claimQuery(database.db).where('c.user_id', '=', userId).where('c.status', '=', 'verified');
  if (!includeHidden) query = query.where('c.show_on_profile', '=', 1);
  return (await query.orderBy('c.decided_at', 'desc').orderBy('c.id', 'desc').execute()).map(claimFromRow);
}

/** Claims by status: the pending queue oldest first (as they came), decided ones newest first. */
export async function listClaims(database: Database, status: ClaimStatus, limit = 200): Promise<Claim[]> {
  const rows = await claimQuery(database.db)
    .where('c.status', '=', status)
    .orderBy('c.created_at', status === 'pending' ? 'asc' : 'desc')
    .orderBy('c.id', status === 'pending' ? 'asc' : 'desc')
    .limit(limit)
    .execute();
  return rows.map(claimFromRow);
}

/** How many claims wait for a curator. */
export async function pendingClaimCount(database: Database): Promise<number> {
  const row = await database.db
    .selectFrom('author_claims')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('status', '=', 'pending')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

function verifiedElsewhere(name: string, username: string): ClaimRefusal {
  return refuse(409, `"${name}" is already verified as ${username} on this paper.`);
}

/** Claims `authorName` of the paper for `viewer`, pending a curator's decision. */
export async function createClaim(
  database: Database,
  viewer: Viewer,
  paperId: number,
  input: { authorName: string; evidence?: string },
): Promise<ClaimOutcome> {
  const name = input.authorName;
  const evidence = (input.evidence ?? '').trim();
  if (name.trim() === '') return refuse(400, 'Choose which of the paper\'s authors you are.');
  if (evidence.length > MAX_EVIDENCE) return refuse(400, `Evidence has at most ${MAX_EVIDENCE} characters (this has ${evidence.length}).`);
  const names = await authorNamesOf(database, paperId);
  if (!names.includes(name)) return refuse(422, `"${name}" is not one of this paper's authors; choose a name exactly as listed.`);
  try {
    const id = await database.db.transaction().execute(async (trx) => {
      const mine = await trx.selectFrom('author_claims').select(['id', 'status']).where('paper_id', '=', paperId).where('user_id', '=', viewer.id).executeTakeFirst();
      if (mine !== undefined) return refuse(409, `You already have a ${mine.status} claim on this paper; withdraw it to claim another name.`);
      const taken = await trx
        .selectFrom('author_claims as c')
        .innerJoin('users as u', 'u.id', 'c.user_id')
        .select('u.username')
        .where('c.paper_id', '=', paperId)
        .where('c.author_name', '=', name)
        .where('c.status', '=', 'verified')
        .executeTakeFirst();
      if (taken !== undefined) return verifiedElsewhere(name, taken.username);
      const row = await trx
        .insertInto('author_claims')
        .values({ paper_id: paperId, user_id: viewer.id, author_name: name, evidence, created_at: new Date().toISOString() })
        .returning('id')
        .executeTakeFirstOrThrow();
      return Number(row.id);
    });
    if (typeof id !== 'number') return id;
    return { ok: true, claim: (await findClaim(database.db, id)) as Claim };
  } catch (err) {
    if (isUniqueViolation(err)) return refuse(409, 'You already have a claim on this paper.');
    throw err;
  }
}

export type Verdict = { verdict: 'verify' } | { verdict: 'reject'; reason: string };

/**
 * A curator's decision on a claim: verify it, or reject it with a reason.
 * A decided claim can be decided again (a verification revoked by a
 * rejection, a rejection reconsidered), never to the state it is in.
 */
export async function decideClaim(database: Database, actor: Viewer, id: number, decision: Verdict): Promise<ClaimOutcome> {
  const reason = decision.verdict === 'reject' ? decision.reason.trim() : '';
  if (decision.verdict === 'reject') {
    if (reason === '') return refuse(400, 'Give the reason for rejecting the claim: the claimant sees it.');
    if (reason.length > MAX_REASON) return refuse(400, `A reason has at most ${MAX_REASON} characters (this has ${reason.length}).`);
  }
  const status: ClaimStatus = decision.verdict === 'verify' ? 'verified' : 'rejected';
  try {
    const outcome = await database.db.transaction().execute(async (trx): Promise<ClaimOutcome> => {
      const claim = await findClaim(trx, id);
      if (claim === undefined) return refuse(404, `There is no claim ${id}.`);
      if (claim.userId === actor.id) return refuse(403, 'You cannot decide your own claim; another curator must.');
      if (claim.status === status) return refuse(409, `This claim is already ${status}.`);
      if (status === 'verified') {
        const other = await trx
          .selectFrom('author_claims as c')
          .innerJoin('users as u', 'u.id', 'c.user_id')
          .select('u.username')
          .where('c.paper_id', '=', claim.paperId)
          .where('c.author_name', '=', claim.authorName)
          .where('c.status', '=', 'verified')
          .where('c.id', '<>', id)
          .executeTakeFirst();
        if (other !== undefined) return verifiedElsewhere(claim.authorName, other.username);
      }
      const decidedAt = new Date().toISOString();
      await trx
        .updateTable('author_claims')
        .set({ status, reason: status === 'rejected' ? reason : null, decided_by: actor.id, decided_at: decidedAt })
        .where('id', '=', id)
        .execute();
      await recordModeration(trx, actor, {
        action: status === 'verified' ? 'verify_claim' : 'reject_claim',
        subject: { kind: 'claim', id, label: `${claim.username} as ${claim.authorName} on ${claim.arxivId}` },
        reason: status === 'verified' ? reason || 'verified' : reason,
      });
      return { ok: true, claim: { ...claim, status, reason: status === 'rejected' ? reason : null, decidedAt } };
    });
    return outcome;
  } catch (err) {
    if (isUniqueViolation(err)) return refuse(409, 'Another person was verified for this author name meanwhile.');
    throw err;
  }
}

/** Withdraws (deletes) one's own claim, whatever its status. */
export async function withdrawClaim(database: Database, userId: number, id: number): Promise<ClaimOutcome> {
  const claim = await findClaim(database.db, id);
  if (claim === undefined || claim.userId !== userId) return notFound(id);
  await database.db.deleteFrom('author_claims').where('id', '=', id).where('user_id', '=', userId).execute();
  return { ok: true, claim };
}

/** Shows or hides one's own verified claim on one's profile. */
export async function setShowOnProfile(database: Database, userId: number, id: number, show: boolean): Promise<ClaimOutcome> {
  const claim = await findClaim(database.db, id);
  if (claim === undefined || claim.userId !== userId) return notFound(id);
  if (claim.status !== 'verified') return refuse(409, `Only a verified claim shows on your profile; this one is ${claim.status}.`);
  await database.db.updateTable('author_claims').set({ show_on_profile: show ? 1 : 0 }).where('id', '=', id).execute();
  return { ok: true, claim: { ...claim, showOnProfile: show } };
}

/** Emails the claimant the decision, without making the request wait; failures stay in the outbox and the log. */
export function mailDecision(ctx: AppContext, claim: Claim): void {
  void (async () => {
    const user = await ctx.database.db.selectFrom('users').select(['email']).where('id', '=', claim.userId).executeTakeFirst();
    if (user === undefined) return;
    const paperUrl = `${ctx.config.baseUrl}/papers/${claim.arxivId}`;
    const verified = claim.status === 'verified';
    await mailerFor(ctx).send({
      to: user.email,
      kind: verified ? 'claim-verified' : 'claim-rejected',
      subject: verified ? `Your authorship of "${claim.paperTitle}" is verified` : `Your authorship claim on "${claim.paperTitle}" was not accepted`,
      text: verified
        ? `Hello ${claim.username},

A curator verified you as ${claim.authorName} on
${claim.paperTitle}
${paperUrl}

Your comments there now carry an "author" badge, and the paper shows on your profile
(hide it at ${ctx.config.baseUrl}/claims).
`
        : `Hello ${claim.username},

A curator did not accept your claim to be ${claim.authorName} on
${claim.paperTitle}
${paperUrl}

Reason: ${claim.reason ?? ''}

You can withdraw the claim and claim again with better evidence at ${ctx.config.baseUrl}/claims.
`,
    });
  })().catch((err: unknown) => ctx.log.error({ err, claim: claim.id }, 'storing a claim decision email failed'));
}
