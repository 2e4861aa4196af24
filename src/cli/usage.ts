/** A mistake in how a command was called: reported without a stack trace, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The options a command's schema refused, each named as its flag. */
export function invalidOptions(issues: readonly { path: readonly PropertyKey[]; message: string }[]): UsageError {
  return new UsageError(issues.map((i) => (i.path.length > 0 ? `--${i.path.map(String).join('.')}: ${i.message}` : i.message)).join('; '));
}
