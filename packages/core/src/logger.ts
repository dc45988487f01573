/**
 * The logger every library takes: structured fields first, then the message (pino's calling convention).
 * pino's `Logger` and Fastify's `FastifyBaseLogger` satisfy it as they are; the processes create pino in their
 * main and hand it down. Libraries depend on this shape only, never on a logging package.
 */
export interface Logger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** A logger that drops everything (specs, benches). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
