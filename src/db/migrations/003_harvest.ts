import type { Migration } from '../migrate.js';

/** Harvest checkpoints for the arXiv clients (see src/arxiv/). */
export const harvest: Migration = {
  version: 3,
  name: 'harvest',
  up() {
    // TODO(harvest): filled in by the harvester work.
  },
};
