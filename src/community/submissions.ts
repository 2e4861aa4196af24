/**
 * Submissions: a signed-in person puts a recent arXiv paper on today's daily
 * feed by its id or URL, credited to them ("Submitted by …"). The paper is
 * fetched from arXiv when this instance does not have it yet.
 *
 * The rules, in the order they are checked (each failure is a status and a
 * message the person can act on):
 * 1. the input names an arXiv paper (400);
 * 2. arXiv knows it and answers (404, or 502/503 to try later);
 * 3. it is not withdrawn, and its first version is at most
 *    `submissionMaxAgeDays` old: the feed is for new work (422);
 * 4. it was never featured, by anyone, on any day (409): one entry per paper,
 *    and a paper a curator took off the feed stays off, since curators decide.
 */
import { ensurePaper, type FetchLog } from '../arxiv/fetch-paper.js';
import type { AppContext } from '../context.js';
import { entryByArxivId, type FeaturedInfo, type FeedEntry } from '../feeds/feed.js';
import { FeatureError, featurePaper } from '../feeds/featuring.js';
import { instanceSettings } from '../moderation/settings.js';
import { parseArxivId } from '../papers/arxiv-id.js';
import { isArxivPaperId } from '../papers/citation.js';
import type { Paper } from '../papers/repository.js';

const DAY_MS = 86_400_000;
const EXAMPLES = 'give an arXiv id such as 2401.01234 (a version like 2401.01234v2 is fine) or hep-th/9901001, or its arxiv.org abs or pdf URL';
const ARXIV_URL_RE = /^(?:https?:\/\/)?(?:www\.|export\.)?arxiv\.org\//i;

export type SubmissionFailure = {
  status: 400 | 403 | 404 | 409 | 422 | 502 | 503;
  message: string;
  /** Seconds to wait before trying again, when arXiv could not be asked. */
  retryAfter?: number;
};

export type SubmissionResult =
  | { ok: true; entry: FeedEntry & { featured: FeaturedInfo }; fetched: boolean }
  | ({ ok: false } & SubmissionFailure);

/** The canonical arXiv id (no version) an input names, or what is wrong with it. */
export function parseSubmission(input: string): { id: string } | { problem: string } {
  const text = input.trim();
  if (text === '') return { problem: `Nothing to submit: ${EXAMPLES}.` };
  // Links copied from a browser may carry a query or fragment (`?context=cs.LG`); the id is in the path.
  const parsed = parseArxivId(ARXIV_URL_RE.test(text) ? text.replace(/[?#].*$/s, '') : text);
  // parseArxivId also accepts the `ns:local` ids of non-arXiv imports, which arXiv cannot look up.
  if (parsed === null || !isArxivPaperId(parsed.id)) {
    const shown = text.length > 80 ? `${text.slice(0, 80)}…` : text;
    return { problem: `"${shown}" is not an arXiv id or arXiv URL: ${EXAMPLES}.` };
  }
  return { id: parsed.id };
}

/** When the paper's first version was submitted (the earliest date on record), or null when none is. */
export function firstVersionAt(paper: Pick<Paper, 'versions' | 'publishedAt'>): Date | null {
  const times = [paper.publishedAt, ...paper.versions.map((v) => v.submittedAt)]
    .map((text) => (text === null ? Number.NaN : Date.parse(text)))
    .filter((t) => Number.isFinite(t));
  return times.length === 0 ? null : new Date(Math.min(...times));
}

/** Why a paper may not be submitted now (too old, undated, withdrawn), or null when it may. */
export function eligibilityProblem(paper: Pick<Paper, 'arxivId' | 'versions' | 'publishedAt' | 'withdrawn'>, maxAgeDays: number, now: Date): string | null {
  if (paper.withdrawn) return `arXiv:${paper.arxivId} has been withdrawn by its authors, so it cannot be submitted.`;
  const first = firstVersionAt(paper);
  const rule = `Papers can be submitted within ${maxAgeDays} ${maxAgeDays === 1 ? 'day' : 'days'} of their first version`;
  if (first === null) return `${rule}, and arXiv:${paper.arxivId} has no date for its first version.`;
  const ageMs = now.getTime() - first.getTime();
  if (ageMs <= maxAgeDays * DAY_MS) return null;
  const days = Math.floor(ageMs / DAY_MS);
  return `${rule}; arXiv:${paper.arxivId} was first submitted on ${first.toISOString().slice(0, 10)}, ${days} days ago.`;
}

function alreadyFeaturedMessage(id: string, err: FeatureError): string {
  const existing = err.existing;
  if (existing === undefined) return `arXiv:${id} is already in the daily papers.`;
  if (existing.hidden) {
    return `arXiv:${id} was in the daily papers of ${existing.on} and a curator took it off; curators decide whether it comes back.`;
  }
  return `arXiv:${id} is already in the daily papers of ${existing.on}.`;
}

/**
 * Submits the paper `input` names on behalf of `username`: fetched if needed,
 * checked, and featured on today's feed (UTC, like every feed day).
 */
export async function submitPaper(ctx: AppContext, username: string, input: string, log: FetchLog, now = new Date()): Promise<SubmissionResult> {
  if ((await instanceSettings(ctx.database)).submissions === 'closed') {
    return { ok: false, status: 403, message: 'Submissions are closed on this instance for now; the admins can open them again.' };
  }
  const parsed = parseSubmission(input);
  if ('problem' in parsed) return { ok: false, status: 400, message: parsed.problem };
  const { id } = parsed;

  const ensured = await ensurePaper(ctx, id, log);
  if (!ensured.ok) {
    const { ok: _ok, ...failure } = ensured;
    return { ok: false, ...failure };
  }
  const problem = eligibilityProblem(ensured.paper, ctx.config.submissionMaxAgeDays, now);
  if (problem !== null) return { ok: false, status: 422, message: problem };

  try {
    await featurePaper(ctx.database, { arxivId: id, on: now.toISOString().slice(0, 10), source: 'submission', by: username, onlyIfNew: true }, now);
  } catch (err) {
    if (err instanceof FeatureError && err.code === 'already_featured') return { ok: false, status: 409, message: alreadyFeaturedMessage(id, err) };
    throw err;
  }
  const entry = await entryByArxivId(ctx.database, id);
  if (entry === undefined || entry.featured === null) throw new Error(`arXiv:${id} is not on the feed right after its submission`);
  log.info({ arxivId: id, by: username, fetched: ensured.fetched }, 'paper submitted');
  return { ok: true, entry: { paper: entry.paper, featured: entry.featured }, fetched: ensured.fetched };
}
