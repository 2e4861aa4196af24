/**
 * An in-process SMTP server (smtp-server) for tests that send mail: it keeps
 * every message it accepted, raw, with its envelope, and can refuse
 * recipients or messages with a chosen SMTP answer to simulate a real
 * server's temporary (4xx) and permanent (5xx) failures. Parse what it kept
 * with mailparser's simpleParser, or, for many thousand messages, only the
 * headers with {@link headerOf}.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMessage {
  from: string;
  to: string[];
  raw: Buffer;
}

/** An SMTP refusal: `code` 4xx (try again later) or 5xx (permanent). */
export interface SmtpAnswer {
  code: number;
  message: string;
}

export interface TestSmtpOptions {
  /** Refuses a recipient at RCPT TO; undefined accepts it. */
  rcpt?: (address: string) => SmtpAnswer | undefined;
  /** Refuses a whole message after its data was received; undefined accepts it (and keeps it). */
  data?: (message: ReceivedMessage) => SmtpAnswer | undefined;
  /** Called for every accepted message; with `keep: false` the only record of it. */
  onMessage?: (message: ReceivedMessage) => void;
  /** Whether to keep accepted messages in `received` (default true). */
  keep?: boolean;
}

export interface TestSmtpServer {
  port: number;
  /** SMTP_URL for the instance under test. */
  url: string;
  received: ReceivedMessage[];
  /** Messages refused after DATA (see `data`). */
  refused: number;
  close(): Promise<void>;
}

function refusal(answer: SmtpAnswer): Error {
  return Object.assign(new Error(answer.message), { responseCode: answer.code });
}

export async function startSmtpServer(options: TestSmtpOptions = {}): Promise<TestSmtpServer> {
  const state = { refused: 0 };
  const received: ReceivedMessage[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    // Clients left connected (a pooled transport, a killed worker) must not hold up close().
    closeTimeout: 100,
    logger: false,
    onRcptTo(address, _session, callback) {
      const answer = options.rcpt?.(address.address);
      callback(answer === undefined ? null : refusal(answer));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      // A client that went away mid-message: nothing was received, nothing is kept.
      stream.on('error', () => {});
      stream.on('end', () => {
        const message: ReceivedMessage = {
          from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks),
        };
        const answer = options.data?.(message);
        if (answer !== undefined) {
          state.refused += 1;
          callback(refusal(answer));
          return;
        }
        if (options.keep !== false) received.push(message);
        options.onMessage?.(message);
        callback();
      });
    },
  });
  // A client that vanishes (a killed worker) resets its connection; that is no failure of the server.
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    received,
    get refused() {
      return state.refused;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * One header of a raw message, unfolded, without parsing the rest: cheap
 * enough for ten thousand messages. Undefined when absent.
 */
export function headerOf(raw: Buffer, name: string): string | undefined {
  const end = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, end === -1 ? raw.length : end).toString('latin1').replace(/\r\n[ \t]+/g, ' ');
  const wanted = name.toLowerCase();
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === wanted) return line.slice(colon + 1).trim();
  }
  return undefined;
}
