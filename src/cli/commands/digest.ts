/**
 * `paperboy digest run`: builds one digest run by hand and sends it in the
 * foreground, or with --dry-run shows what it would send and writes nothing.
 * Running it again for the same period sends nothing new: the run and its
 * ledger exist already, and only rows still pending are sent.
 */
import { Command, CommanderError } from 'commander';
import { z } from 'zod';
import { loadConfig } from '../../config.js';
import { createContext, type AppContext } from '../../context.js';
import { buildContent, type DigestContent } from '../../digests/content.js';
import { countDeliveries, deliverRun, type DeliveryCounts } from '../../digests/delivery.js';
import { audience, createRun, localTime, type RunRequest } from '../../digests/runs.js';
import { isDay } from '../../feeds/periods.js';
import { invalidOptions, UsageError } from '../usage.js';

/** Addresses a dry run lists. */
const SAMPLE = 10;

const optionsSchema = z.object({
  cadence: z.enum(['daily', 'weekly'], { error: (issue) => `must be daily or weekly, got "${String(issue.input)}"` }).default('daily'),
  date: z
    .string()
    .refine(isDay, { error: (issue) => `must be a real date written YYYY-MM-DD, got "${String(issue.input)}"` })
    .optional(),
  dryRun: z.boolean().default(false),
});

function describePeriod(content: DigestContent): string {
  return content.from === content.to ? `papers featured on ${content.to}` : `papers featured ${content.from} to ${content.to}`;
}

async function dryRun(ctx: AppContext, request: RunRequest): Promise<void> {
  const out: string[] = [];
  const existing = await ctx.database.db
    .selectFrom('digest_runs')
    .select(['id', 'status', 'recipients'])
    .where('cadence', '=', request.cadence)
    .where('period_end', '=', request.periodEnd)
    .executeTakeFirst();
  const content = await buildContent(ctx.database, request.cadence, request.periodEnd);
  out.push(`digest ${request.cadence} ${request.periodEnd} (dry run, nothing written): ${describePeriod(content)}`);
  if (existing !== undefined) {
    out.push(
      `run ${existing.id} for this period exists already (${existing.status}, ${existing.recipients} recipients): ` +
        'a real run sends only what its ledger still has pending',
    );
  }
  out.push(`${content.papers.length} papers${content.papers.length > 0 ? ':' : ''}`);
  for (const paper of content.papers) out.push(`  ${paper.arxivId}  ${paper.title}`);
  let recipients = 0;
  const sample: string[] = [];
  for await (const page of audience(ctx.database, content)) {
    recipients += page.length;
    for (const member of page) if (sample.length < SAMPLE) sample.push(member.email);
  }
  out.push(`${recipients} recipients${sample.length > 0 ? `; the first ${sample.length}:` : ''}`);
  for (const email of sample) out.push(`  ${email}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

function tally(counts: DeliveryCounts): string {
  return (
    `sent ${counts.sent}, failed ${counts.failed}, uncertain ${counts.uncertain}, cancelled ${counts.cancelled}` +
    (counts.pending > 0 ? `, still pending ${counts.pending}` : '')
  );
}

async function realRun(ctx: AppContext, request: RunRequest): Promise<void> {
  // An explicit run finishes a build a crashed builder left, however recent.
  const run = await createRun(ctx, request, { resume: true });
  const head = `digest ${request.cadence} ${request.periodEnd}: ${run.recipients} recipients, ${run.content.papers.length} papers`;
  const before = await countDeliveries(ctx, run.runId);
  // Uncertain rows are sent again only under the `resend` policy.
  const left = before.pending + (ctx.config.digest.uncertain === 'resend' ? before.uncertain : 0);
  let counts = before;
  let interrupted = false;
  if (run.status !== 'done') {
    const abort = new AbortController();
    const stop = (): void => abort.abort(new Error('interrupted'));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      counts = await deliverRun(ctx, run.runId, { signal: abort.signal });
      interrupted = abort.signal.aborted;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  }
  let what: string;
  if (run.created) what = run.recipients === 0 ? 'nobody to send to' : tally(counts);
  else if (left === 0) what = `already built; nothing new to send${run.recipients > 0 ? ` (${tally(counts)})` : ''}`;
  else what = `already built; ${left} left to send: ${tally(counts)}`;
  process.stdout.write(`${head}; ${what}\n`);
  if (interrupted) {
    process.stderr.write(`paperboy: interrupted; run the same command again to send the rest\n`);
    throw new CommanderError(1, 'paperboy.digest.interrupted', 'interrupted');
  }
}

/** `paperboy digest`: digest runs by hand. */
export function digestCommand(): Command {
  const digest = new Command('digest').description('Email digests.');
  digest
    .command('run')
    .description(
      'Build the digest run of a period (its papers and recipients are frozen) and send it now. A run is built once: ' +
        'running it again only sends what is still pending.',
    )
    .option('--cadence <cadence>', 'daily (papers featured on the date) or weekly (the 7 days ending on it)', 'daily')
    .option('--date <date>', 'the last day of the period, YYYY-MM-DD (default: today in DIGEST_TIMEZONE)')
    .option('--dry-run', 'print the papers and recipients the run would have, and write nothing')
    .addHelpText('after', '\nExit codes: 0 done, 1 failure, 2 invalid arguments.')
    .action(async (raw: unknown) => {
      const parsed = optionsSchema.safeParse(raw);
      if (!parsed.success) {
        throw invalidOptions(parsed.error.issues);
      }
      const opts = parsed.data;
      const config = loadConfig();
      const today = localTime(new Date(), config.digest.timeZone).day;
      const periodEnd = opts.date ?? today;
      // A run freezes its papers once: built before its day it would stay empty for good.
      if (periodEnd > today && !opts.dryRun) {
        throw new UsageError(`--date: ${periodEnd} is after today (${today} in ${config.digest.timeZone}); a run can be built on or after its last day`);
      }
      const request: RunRequest = { cadence: opts.cadence, periodEnd };
      const ctx = await createContext(config);
      try {
        if (opts.dryRun) await dryRun(ctx, request);
        else await realRun(ctx, request);
      } finally {
        await ctx.database.close();
      }
    });
  return digest;
}

