import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs on stderr (stdout stays free for command output).
 * Anything that looks like a credential is redacted wherever it appears.
 */
export function createLogger(level: string, name = 'paperboy'): Logger {
  return pino(
    {
      name,
      level,
      redact: {
        paths: [
          'password',
          '*.password',
          'token',
          '*.token',
          'secretKey',
          '*.secretKey',
          'smtpUrl',
          '*.smtpUrl',
          'req.headers.authorization',
          'req.headers.cookie',
        ],
        censor: '[redacted]',
      },
    },
    pino.destination(2),
  );
}
