import { pino, type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/** `json`: one JSON object a line; `pretty`: readable text; `auto`: pretty on a terminal, JSON otherwise. */
export type LogFormat = 'auto' | 'json' | 'pretty';

/**
 * Readable lines for a person at a terminal. Synchronous, in this thread (no
 * transport worker): a line is written before the call returns, so nothing is
 * lost when a command exits right after logging, and nothing keeps the process
 * alive afterwards.
 */
function prettyStream(): DestinationStream {
  return pretty({
    destination: 2,
    sync: true,
    colorize: process.stderr.isTTY === true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,name',
    singleLine: true,
  });
}

/**
 * Logs on stderr (stdout stays free for command output): JSON lines for log
 * collectors, readable text on a terminal. Anything that looks like a
 * credential is redacted wherever it appears.
 */
export function createLogger(level: string, name = 'paperboy', format: LogFormat = 'auto'): Logger {
  const readable = format === 'pretty' || (format === 'auto' && process.stderr.isTTY === true);
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
          'mailWebhookSecret',
          '*.mailWebhookSecret',
          'req.headers.authorization',
          'req.headers.cookie',
        ],
        censor: '[redacted]',
      },
    },
    readable ? prettyStream() : pino.destination(2),
  );
}
