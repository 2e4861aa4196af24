/** People's accounts: creation, lookup, and what the rest of the site knows of a signed-in person. */
import type { Database } from '../db/connection.js';
import type { Role } from '../db/schema.js';
import { hashPassword, passwordProblem } from './passwords.js';

/** A signed-in person, as every page and route sees them. */
export interface Viewer {
  id: number;
  username: string;
  role: Role;
  emailVerified: boolean;
}

/** Every role, each allowed everything the ones before it are. */
export const ROLES: readonly Role[] = ['user', 'curator', 'moderator', 'admin'];

/** True when `role` may do what `min` may: roles are ranked, an admin moderates and curates too. */
export function roleAtLeast(role: Role, min: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(min);
}

/** 3-30 letters, digits, `-` and `_`, starting with a letter or digit: safe in URLs (`/u/:username`) and @mentions. */
export const USERNAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{2,29}$/;
const EMAIL_RE = /^[^\s@<>()",;:\\[\]]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
/** Names that would read as the site speaking, or clash with routes. */
const RESERVED = new Set(['admin', 'administrator', 'root', 'paperboy', 'moderator', 'support', 'system', 'api', 'settings', 'deleted']);

export function usernameProblem(username: string): string | null {
  if (!USERNAME_RE.test(username)) return 'Use 3 to 30 letters, digits, "-" or "_", starting with a letter or digit.';
  if (RESERVED.has(username.toLowerCase())) return 'This name is reserved; choose another.';
  return null;
}

export function emailProblem(email: string): string | null {
  return email.length <= 254 && EMAIL_RE.test(email) ? null : 'Enter an email address such as ada@example.org.';
}

export const emailKey = (email: string): string => email.trim().toLowerCase();
export const usernameKey = (username: string): string => username.toLowerCase();

export interface NewUser {
  email: string;
  username: string;
  /** Omitted: the account signs in by emailed link only. */
  password?: string;
  role?: Role;
  /** Accounts made by an admin on the command line are trusted with their address. */
  verified?: boolean;
}

export type CreateUserResult =
  | { ok: true; user: Viewer }
  | { ok: false; field: 'email' | 'username' | 'password'; problem: string; taken?: boolean };

/** Validates and stores a new account; a taken email or username is reported as such (callers decide what to reveal). */
export async function createUser(database: Database, input: NewUser): Promise<CreateUserResult> {
  const email = input.email.trim();
  const emailIssue = emailProblem(email);
  if (emailIssue) return { ok: false, field: 'email', problem: emailIssue };
  const usernameIssue = usernameProblem(input.username);
  if (usernameIssue) return { ok: false, field: 'username', problem: usernameIssue };
  if (input.password !== undefined) {
    const passwordIssue = passwordProblem(input.password);
    if (passwordIssue) return { ok: false, field: 'password', problem: passwordIssue };
  }
  const passwordHash = input.password === undefined ? null : await hashPassword(input.password);
  const now = new Date().toISOString();
  const row = await database.db
    .insertInto('users')
    .values({
      username: input.username,
      username_key: usernameKey(input.username),
      email,
      email_key: emailKey(email),
      password_hash: passwordHash,
      role: input.role ?? 'user',
      email_verified_at: input.verified ? now : null,
      created_at: now,
    })
    .onConflict((oc) => oc.doNothing())
    .returning(['id', 'username', 'role', 'email_verified_at'])
    .executeTakeFirst();
  if (row === undefined) {
    const clash = await database.db
      .selectFrom('users')
      .select('email_key')
      .where((eb) => eb.or([eb('email_key', '=', emailKey(email)), eb('username_key', '=', usernameKey(input.username))]))
      .executeTakeFirst();
    return clash?.email_key === emailKey(email)
      ? { ok: false, field: 'email', problem: 'An account with this email address exists.', taken: true }
      : { ok: false, field: 'username', problem: 'This username is taken.', taken: true };
  }
  return { ok: true, user: { id: row.id, username: row.username, role: row.role, emailVerified: row.email_verified_at !== null } };
}

/** The account with this email address or username (case-insensitive). */
export async function findAccount(database: Database, login: string) {
  const key = login.trim().toLowerCase();
  return database.db
    .selectFrom('users')
    .selectAll()
    .where((eb) => eb.or([eb('email_key', '=', key), eb('username_key', '=', key)]))
    .executeTakeFirst();
}

export async function findUserById(database: Database, id: number) {
  return database.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export function viewerOf(row: { id: number; username: string; role: Role; email_verified_at: string | null }): Viewer {
  return { id: row.id, username: row.username, role: row.role, emailVerified: row.email_verified_at !== null };
}

/** A ban or a running suspension of an account, as moderators set it (src/moderation/restrictions.ts). */
export type Restriction = { kind: 'banned'; reason: string } | { kind: 'suspended'; until: string; reason: string };

/** The restriction in force on an account row at `now`: a suspension past its end is none. */
export function restrictionOf(
  row: { banned_at: string | null; suspended_until: string | null; restriction_reason: string | null },
  now = new Date(),
): Restriction | null {
  const reason = row.restriction_reason ?? '';
  if (row.banned_at !== null) return { kind: 'banned', reason };
  if (row.suspended_until !== null && row.suspended_until > now.toISOString()) return { kind: 'suspended', until: row.suspended_until, reason };
  return null;
}

/** What a restricted person is told when they try to sign in (banned) or write (suspended). */
export function restrictionMessage(restriction: Restriction): string {
  const why = restriction.reason === '' ? '' : ` Reason: ${restriction.reason}`;
  if (restriction.kind === 'banned') return `This account is banned by the moderators.${why}`;
  return `This account is suspended until ${restriction.until.slice(0, 16).replace('T', ' ')} UTC: it can read but not post, vote or change anything.${why}`;
}
