/**
 * `paperboy user create` and `paperboy token create|revoke`: how an admin
 * makes the first accounts (an admin included) and API tokens for scripts.
 * Passwords come from stdin only (`--password-stdin`), never from an argument
 * that shell history and `ps` would show.
 */
import { Command, Option } from 'commander';
import { createApiToken, revokeApiToken, TOKEN_SCOPES } from '../../accounts/api-tokens.js';
import { findAccount, createUser, ROLES } from '../../accounts/users.js';
import { loadConfig } from '../../config.js';
import { createContext, type AppContext } from '../../context.js';
import type { Role, TokenScope } from '../../db/schema.js';
import { UsageError } from '../usage.js';

async function withContext<T>(run: (ctx: AppContext) => Promise<T>): Promise<T> {
  const ctx = await createContext(loadConfig());
  try {
    return await run(ctx);
  } finally {
    await ctx.database.close();
  }
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new UsageError('--password-stdin reads the password from a pipe: echo "$PASSWORD" | paperboy user create ...');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One trailing newline is the pipe's, not the password's.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export function userCommand(): Command {
  const user = new Command('user').description('Manage accounts.');
  user
    .command('create')
    .description('Create a confirmed account (without --password-stdin it signs in by emailed link or a password reset).')
    .requiredOption('--email <email>', 'the address')
    .requiredOption('--username <name>', '3-30 letters, digits, "-" or "_"')
    .addOption(new Option('--role <role>', 'what the account may do').choices(ROLES).default('user'))
    .option('--password-stdin', 'read the password from standard input')
    .action(async (opts: { email: string; username: string; role: Role; passwordStdin?: boolean }) => {
      const password = opts.passwordStdin ? await readStdin() : undefined;
      await withContext(async (ctx) => {
        const created = await createUser(ctx.database, { email: opts.email, username: opts.username, password, role: opts.role, verified: true });
        if (!created.ok) throw new UsageError(`${created.field}: ${created.problem}`);
        process.stdout.write(`created ${created.user.role} ${created.user.username} (id ${created.user.id})\n`);
      });
    });
  return user;
}

export function tokenCommand(): Command {
  const token = new Command('token').description('Manage personal API tokens.');
  token
    .command('create')
    .description('Create a personal API token; it is printed once, on the last line.')
    .requiredOption('--user <user>', 'username or email of the owner')
    .addOption(new Option('--scope <scope>', 'read, or write (also upvote, comment, submit)').choices(TOKEN_SCOPES).default('read'))
    .option('--name <name>', 'what will use it', 'cli')
    .action(async (opts: { user: string; scope: TokenScope; name: string }) => {
      await withContext(async (ctx) => {
        const account = await findAccount(ctx.database, opts.user);
        if (account === undefined) throw new UsageError(`no account ${opts.user}`);
        const created = await createApiToken(ctx.database, account.id, opts.scope, opts.name);
        process.stdout.write(`created ${opts.scope} token "${opts.name}" (id ${created.info.id}) for ${account.username}; store it now, it is not shown again:\n${created.token}\n`);
      });
    });
  token
    .command('revoke')
    .description('Revoke a personal API token by its id (shown at creation and in the owner\'s settings).')
    .requiredOption('--user <user>', 'username or email of the owner')
    .argument('<id>', 'the token id')
    .action(async (id: string, opts: { user: string }) => {
      if (!/^\d+$/.test(id)) throw new UsageError(`token id must be a number, got "${id}"`);
      await withContext(async (ctx) => {
        const account = await findAccount(ctx.database, opts.user);
        if (account === undefined) throw new UsageError(`no account ${opts.user}`);
        if (!(await revokeApiToken(ctx.database, account.id, Number(id)))) throw new UsageError(`${account.username} has no token ${id}`);
        process.stdout.write(`revoked token ${id} of ${account.username}\n`);
      });
    });
  return token;
}

