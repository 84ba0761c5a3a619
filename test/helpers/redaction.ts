import { after } from 'node:test';

/**
 * Log redaction, enforced by every test file on its own: no secret or plaintext a test registered may
 * appear in a log line of a server the same file ran. A test server's log is checked when it stops
 * (`TestServer.stop`), and once more after the file's last test, every collected log against every
 * secret registered by then (a token may be registered after the server that issued it stopped).
 */

/** Payloads many files send (the demo's plaintext among them): looked for whether or not a test registered them. */
const COMMON_PLAINTEXTS = ['sensitive information to sign and encrypt', 'made under v1', 'via sdk token', 'tamper me', 'from the CLI org', 'direct data'];

/** Shorter values (e.g. `true`, a status) would match by chance. */
const MIN_SECRET_LENGTH = 8;

const secrets = new Set<string>(COMMON_PLAINTEXTS);
const logs: { readonly where: string; readonly lines: readonly string[] }[] = [];

export class SecretInLogError extends Error {
  readonly code = 'SECRET_IN_LOG';
  constructor(
    readonly where: string,
    /** The first characters of each secret found: the error must not leak them either. */
    readonly prefixes: readonly string[],
  ) {
    super(`the log of ${where} contains ${prefixes.length} secret(s) or plaintext(s) a test used: ${prefixes.join(', ')}`);
    this.name = 'SecretInLogError';
  }
}

export function registerSecret(...values: string[]): void {
  for (const value of values) if (value.length >= MIN_SECRET_LENGTH) secrets.add(value);
}

/** Only for the test that proves a leak is caught: its planted secret must not fail the file afterwards. */
export function forgetSecret(value: string): void {
  secrets.delete(value);
}

/** A log (an array the caller appends lines to) that is checked after this file's last test. */
export function collectLog(where: string): string[] {
  const lines: string[] = [];
  logs.push({ where, lines });
  return lines;
}

/** The first characters of every registered secret the lines contain. */
function leaksIn(lines: readonly string[]): string[] {
  const text = lines.join('\n');
  return [...secrets].filter((secret) => text.includes(secret)).map((secret) => `${secret.slice(0, 6)}…`);
}

export function assertNoSecretsIn(lines: readonly string[], where: string): void {
  const leaks = leaksIn(lines);
  if (leaks.length > 0) throw new SecretInLogError(where, leaks);
}

after(() => {
  const leaking = logs.map((log) => ({ where: log.where, leaks: leaksIn(log.lines) })).filter((log) => log.leaks.length > 0);
  if (leaking.length > 0)
    throw new SecretInLogError(
      leaking.map((log) => log.where).join(' and '),
      leaking.flatMap((log) => log.leaks),
    );
});
