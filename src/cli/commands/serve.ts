import { Command, Option } from 'commander';
import { z } from 'zod';
import { loadConfig } from '../../config.js';
import { ROLES, serve, type Role } from '../../server.js';
import { UsageError } from '../usage.js';

const optionsSchema = z.object({
  port: z.coerce.number().int().min(0).max(65535).optional(),
  roles: z
    .string()
    .transform((s) => s.split(',').map((r) => r.trim()).filter(Boolean))
    .pipe(z.array(z.enum(ROLES)).min(1)),
});

export function serveCommand(): Command {
  return new Command('serve')
    .description('Run Paperboy: the web server, the job worker and the scheduler.')
    .addOption(new Option('--port <n>', 'port to listen on (default: PORT or 3000)'))
    .addOption(new Option('--roles <list>', `comma-separated roles to run: ${ROLES.join(', ')}`).default(ROLES.join(',')))
    .action(async (raw: unknown) => {
      const parsed = optionsSchema.safeParse(raw);
      if (!parsed.success) {
        throw new UsageError(parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; '));
      }
      const config = loadConfig();
      if (parsed.data.port !== undefined) config.port = parsed.data.port;
      const roles = new Set<Role>(parsed.data.roles);
      const running = await serve(config, roles);
      await running.closed;
    });
}
