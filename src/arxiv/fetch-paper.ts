/**
 * Bringing one paper this instance does not have in from arXiv on a person's
 * request (the paper page's "fetch from arXiv" button, a submission): one API
 * lookup, then the same store as harvests and imports, so the paper gets
 * validation, merging, categories and its search index row like any other.
 */
import type { AppContext } from '../context.js';
import { withPaperBatch } from '../db/paper-writer.js';
import { prepareItem } from '../ingest/prepare.js';
import type { ParseItem } from '../ingest/record.js';
import { parseArxivId } from '../papers/arxiv-id.js';
import { findPaperByArxivId, type Paper } from '../papers/repository.js';
import { ArxivApiClient, ArxivApiError, baseId } from './api-client.js';
import { ArxivHttpError, ArxivUnreachableError, sharedArxivHttp } from './http.js';

// Longer than arXiv's usual answer, shorter than a person waits for a page.
const FETCH_TIMEOUT_MS = 30_000;
/** Seconds a client is told to wait (Retry-After) when arXiv could not be asked. */
export const ARXIV_RETRY_AFTER_SECONDS = 60;

/** The logger calls this needs; pino's and Fastify's request logger fit. */
export interface FetchLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export type EnsuredPaper =
  | { ok: true; paper: Paper; fetched: boolean }
  /** `retryAfter` (seconds) is set when asking again later may work (503). */
  | { ok: false; status: 404 | 502 | 503; message: string; retryAfter?: number };

/** Why a lookup failed, as the person should read it, with the status to answer; null for a bug. */
function lookupFailure(err: unknown, id: string): { status: 502 | 503; message: string } | null {
  if (err instanceof ArxivUnreachableError) {
    return { status: 503, message: `arXiv cannot be reached from this server right now (${err.message}). arXiv:${id} was not fetched; try again later.` };
  }
  if (err instanceof ArxivHttpError) {
    return { status: 503, message: `arXiv is not answering properly right now (${err.status === null ? 'no response' : `HTTP ${err.status}`}). arXiv:${id} was not fetched; try again in a few minutes.` };
  }
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return { status: 503, message: `arXiv did not answer within ${FETCH_TIMEOUT_MS / 1000} seconds. arXiv:${id} was not fetched; try again later.` };
  }
  if (err instanceof ArxivApiError) return { status: 502, message: `arXiv refused the lookup of ${id}: ${err.message}` };
  return null;
}

/**
 * The paper with canonical arXiv id `id` (no version), from this instance or,
 * when it has none, fetched from arXiv and stored. A paper already here
 * (fetched meanwhile, a double submit) costs arXiv nothing.
 */
export async function ensurePaper(ctx: AppContext, id: string, log: FetchLog): Promise<EnsuredPaper> {
  const present = await findPaperByArxivId(ctx.database, id);
  if (present !== undefined) return { ok: true, paper: present, fetched: false };

  const api = new ArxivApiClient(sharedArxivHttp(ctx.config, ctx.log), ctx.config.arxiv.apiUrl);
  let items: ParseItem[];
  try {
    const result = await api.lookup([id], { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    items = result.items.filter((i) => i.kind === 'paper' && parseArxivId(baseId(i.paper.id))?.id === id);
  } catch (err) {
    const failure = lookupFailure(err, id);
    if (failure === null) throw err;
    log.warn({ err, arxivId: id }, 'fetching a paper from arXiv failed');
    return failure.status === 503 ? { ok: false, ...failure, retryAfter: ARXIV_RETRY_AFTER_SECONDS } : { ok: false, ...failure };
  }
  if (items.length === 0) return { ok: false, status: 404, message: `arXiv has no paper with the id ${id}.` };

  const outcomes = await withPaperBatch(ctx.database, (writer) => writer.apply(items.map(prepareItem)));
  const stored = await findPaperByArxivId(ctx.database, id);
  if (stored === undefined) {
    const reason = outcomes.map((o) => (o.status === 'skipped' ? o.reason : o.status)).join('; ');
    log.warn({ arxivId: id, reason }, "arXiv's record could not be stored");
    return { ok: false, status: 502, message: `arXiv's record for ${id} could not be stored: ${reason}` };
  }
  log.info({ arxivId: id, outcomes: outcomes.map((o) => o.status) }, 'fetched paper from arXiv');
  return { ok: true, paper: stored, fetched: true };
}
