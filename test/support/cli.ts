import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const BIN = resolve('bin/paperboy.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A fresh data directory for one test. */
export function tempDataDir(prefix = 'paperboy-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Runs the real `paperboy` binary as a child process and collects its output; `input` is piped to its stdin. */
export function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 120_000, input?: string): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: timeoutMs,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    // No input: an empty, closed stdin, as from /dev/null.
    child.stdin.end(input ?? '');
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** A TCP port on 127.0.0.1 that nothing listens on now: for a server to start on, or to stand for an unreachable one. */
export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => (typeof address === 'object' && address !== null ? resolvePromise(address.port) : reject(new Error('no port'))));
    });
  });
}
