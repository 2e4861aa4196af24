// A digest sender process for test/digest-sigkill.test.ts, run from its compiled form:
//   node dist/test/support/digest-worker.js <dataDir> <runId> <leaseMs>
// It delivers the run through SMTP_URL and exits; the test SIGKILLs it on the way.
import { loadConfig } from '../../src/config.js';
import { createContext } from '../../src/context.js';
import { deliverRun } from '../../src/digests/delivery.js';
import { createLogger } from '../../src/log.js';

const [dataDir, runId, leaseMs] = process.argv.slice(2);
if (dataDir === undefined || runId === undefined) throw new Error('usage: digest-worker.js <dataDir> <runId> <leaseMs>');
const ctx = await createContext(
  // DATABASE_URL and SMTP_URL come from the environment.
  loadConfig({ ...process.env, PAPERBOY_DATA_DIR: dataDir, LOG_LEVEL: 'silent', NODE_ENV: 'test' }),
  createLogger(process.env.FIXTURE_LOG_LEVEL ?? 'silent', 'digest-worker'),
);
const counts = await deliverRun(ctx, Number(runId), { leaseMs: Number(leaseMs ?? 1_000) });
process.stdout.write(`${JSON.stringify(counts)}\n`);
await ctx.database.close();
