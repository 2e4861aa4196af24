import { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { createContext } from '../../context.js';
import { rebuildKeywordIndex } from '../../db/keyword-index.js';
import { rebuildVectorIndex } from '../../semantic/vector-index.js';

export function reindexCommand(): Command {
  return new Command('reindex')
    .description(
      'Rebuild the keyword index from the papers and the vector (ANN) index from the stored vectors ' +
        '(in server mode: index files of this data directory that no running process holds).',
    )
    .action(async () => {
      const ctx = await createContext(loadConfig());
      try {
        const started = Date.now();
        await rebuildKeywordIndex(ctx.database);
        process.stdout.write(`rebuilt the keyword index in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
        const vectors = await rebuildVectorIndex(ctx.database);
        process.stdout.write(`rebuilt the vector index (${vectors.vectors} vectors) in ${vectors.seconds.toFixed(1)} s\n`);
      } finally {
        await ctx.database.close();
      }
    });
}
