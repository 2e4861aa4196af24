import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * The shared real-data folder (`../shared/data` beside the checkout, or
 * PAPERBOY_SHARED_DATA). In CI it must exist; elsewhere tests that need it are
 * skipped with this reason when it is absent.
 */
export function sharedData(): { dir: string; skip: string | false } {
  const dir = resolve(process.env.PAPERBOY_SHARED_DATA ?? '../shared/data');
  if (existsSync(dir)) return { dir, skip: false };
  if (process.env.CI === 'true') throw new Error(`shared data folder ${dir} is missing in CI`);
  return { dir, skip: `shared data folder ${dir} not found (set PAPERBOY_SHARED_DATA)` };
}
