/**
 * `semantic.embed`: keeps every paper's vector current. It first adds a model
 * when the instance needs one (src/semantic/models.ts planModel), then embeds
 * the papers the active model lacks (new papers become findable by meaning
 * soon) and then those a building model lacks, activating that model once it
 * has them all and its vector index is built and saved, and finally deletes
 * retired models' vectors. Each batch
 * commits on its own, so a killed worker loses at most one batch of work, and
 * a re-run only embeds what is still missing.
 */
import { z } from 'zod';
import type { AppContext } from '../context.js';
import {
  activeModel,
  buildingModel,
  deleteRetiredVectors,
  papersWithoutVectors,
  vectorCoverage,
  writeVectors,
  type EmbeddingModel,
} from '../db/vector-store.js';
import { defineJobType, jobSpec, type JobHandler, type JobSpec } from '../jobs/queue.js';
import { documentText } from './embedder.js';
import { activateWhenComplete, embedderOf, planModel } from './models.js';
import { prepareVectorIndex } from './vector-index.js';

/** Papers embedded per batch (and per transaction). */
export const EMBED_BATCH = 256;
const RETIRED_DELETE_BATCH = 5_000;

export const embedJob = defineJobType('semantic.embed', z.object({}), { maxAttempts: 5 });

/** The embed job with a key unique per minute and reason: enqueueing again within the minute is a no-op. */
export function embedJobSpec(reason: string, now = new Date()): JobSpec {
  return jobSpec(embedJob, {}, { uniqueKey: `semantic.embed:${reason}:${now.toISOString().slice(0, 16)}` });
}

const yieldToOthers = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Embeds every paper that lacks a vector of `model`; returns how many. */
export async function embedMissing(ctx: AppContext, model: EmbeddingModel, signal?: AbortSignal): Promise<number> {
  const embedder = await embedderOf(ctx, model);
  let written = 0;
  let afterId = 0;
  for (;;) {
    signal?.throwIfAborted();
    const papers = await papersWithoutVectors(ctx.database, model.id, EMBED_BATCH, afterId);
    const last = papers.at(-1);
    if (last === undefined) return written;
    const vectors = await embedder.embed(
      papers.map((p) => documentText(p.title, p.abstract)),
      'document',
      signal,
    );
    await writeVectors(
      ctx.database,
      model.id,
      papers.map((p, i) => ({ paperId: p.id, vector: vectors[i] ?? new Float32Array(model.dimensions) })),
    );
    written += papers.length;
    afterId = last.id;
    await yieldToOthers();
  }
}

/** One full pass: plan, embed for the active then the building model, activate, clean up. */
export async function embedAll(
  ctx: AppContext,
  signal?: AbortSignal,
): Promise<{ written: number; activated: number | null; planned: string; indexBuilt: { vectors: number; seconds: number } | null }> {
  const plan = await planModel(ctx, signal);
  let written = 0;
  const active = await activeModel(ctx.database);
  if (active !== null) written += await embedMissing(ctx, active, signal);
  let activated: number | null = null;
  let indexBuilt: { vectors: number; seconds: number } | null = null;
  const building = await buildingModel(ctx.database);
  if (building !== null) {
    written += await embedMissing(ctx, building, signal);
    const coverage = await vectorCoverage(ctx.database, building.id);
    const missing = coverage.papers - coverage.vectors;
    // The old model (or keyword search, on a new instance) serves until the new index is built and saved.
    if (missing === 0) indexBuilt = await prepareVectorIndex(ctx.database, building);
    if (await activateWhenComplete(ctx.database, building, missing)) activated = building.id;
  }
  while ((await deleteRetiredVectors(ctx.database, RETIRED_DELETE_BATCH)) > 0) {
    signal?.throwIfAborted();
    await yieldToOthers();
  }
  return { written, activated, planned: plan.action === 'created' ? `model ${plan.model.id}: ${plan.reason}` : plan.reason, indexBuilt };
}

export const embedHandler: JobHandler<z.output<typeof embedJob.schema>> = async ({ signal, log, ctx }) => {
  const result = await embedAll(ctx, signal);
  if (result.written > 0 || result.activated !== null) log.info(result, 'paper vectors written');
  return result;
};
