/**
 * The one error a process throws when it cannot start because of something the operator must fix: a wrong
 * command line or configuration, a missing or wrong master key, a key store that cannot be opened. Its message
 * says how to fix it, so it is printed without a stack; the process exits with `STARTUP_EXIT_CODE`.
 * Anything else thrown at start-up is a bug or an outage and keeps its stack.
 */

/** Why the process could not start. */
export type StartupReason =
  /** A wrong command line (flags, arguments, files named on it). */
  | 'usage'
  /** A wrong setting (environment variable or flag value). */
  | 'configuration'
  /** The master key cannot be had (bad CRM_LEDGER_MASTER_KEY, unreadable or too open master.key). */
  | 'master_key'
  /** The customer key store cannot be opened (wrong master key, unreadable file or schema). */
  | 'key_store';

/** Exit code of a process that could not start (the shell's "wrong usage"). */
export const STARTUP_EXIT_CODE = 2;

export class StartupError extends Error {
  override readonly name = 'StartupError';
  /** The message, one line per entry (a configuration error lists every wrong setting). */
  readonly lines: readonly string[];

  constructor(
    readonly reason: StartupReason,
    message: string | readonly string[],
    options?: { readonly cause?: unknown },
  ) {
    const lines = typeof message === 'string' ? [message] : message;
    super(lines.join('\n'), options);
    this.lines = lines;
  }
}

export const isStartupError = (error: unknown, reason?: StartupReason): error is StartupError =>
  error instanceof StartupError && (reason === undefined || error.reason === reason);

/** A wrong configuration: `invalid configuration:` then one indented line per wrong setting. */
export const invalidConfiguration = (problems: readonly string[]): StartupError =>
  new StartupError('configuration', ['invalid configuration:', ...problems.map((p) => `  ${p}`)]);
