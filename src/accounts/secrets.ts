/**
 * Random secrets handed to people (session cookies, emailed links, API
 * tokens) and the form they are stored in. A secret is 256 random bits, so a
 * plain SHA-256 of it cannot be reversed or guessed; a slow hash (as for
 * passwords) would only cost time on every request.
 */
import { createHash, randomBytes } from 'node:crypto';

/** A new secret: 32 random bytes, base64url (43 characters). */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** What the database stores for `secret`. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Whether `value` has the shape of a secret from {@link newSecret} (checked before any lookup). */
export function isSecret(value: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(value);
}
