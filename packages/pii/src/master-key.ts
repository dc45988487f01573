import { createHmac, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import * as E from 'fp-ts/lib/Either.js';

/** Name of the master key file in the data directory when CRM_LEDGER_MASTER_KEY is not set. */
export const MASTER_KEY_FILE = 'master.key';

export interface MasterKeyError {
  readonly type: 'MasterKeyError';
  readonly message: string;
}

/** Where the master key came from (never the key itself): for the start-up banner. */
export interface MasterKey {
  readonly key: Buffer;
  readonly source: 'environment' | 'file' | 'new file';
  readonly file?: string;
}

const fail = (message: string): E.Either<MasterKeyError, never> =>
  E.left({ type: 'MasterKeyError', message });

function decode(text: string, where: string): E.Either<MasterKeyError, Buffer> {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) return fail(`${where}: must be base64 of 32 bytes`);
  const key = Buffer.from(trimmed, 'base64');
  return key.length === 32
    ? E.right(key)
    : fail(`${where}: must be base64 of 32 bytes, got ${key.length} bytes`);
}

/**
 * The master key that wraps every customer key: CRM_LEDGER_MASTER_KEY (base64 of 32 bytes) when set, else the
 * file `<dataDir>/master.key`, created with mode 0600 (random 32 bytes, base64) on first start. A file others can
 * read is refused: whoever holds the master key and a copy of the key store can read personal data.
 */
export function loadMasterKey(options: {
  readonly fromEnvironment?: string | undefined;
  readonly dataDir: string;
}): E.Either<MasterKeyError, MasterKey> {
  if (options.fromEnvironment !== undefined && options.fromEnvironment !== '') {
    const key = decode(options.fromEnvironment, 'CRM_LEDGER_MASTER_KEY');
    return E.isLeft(key) ? key : E.right({ key: key.right, source: 'environment' });
  }
  const file = path.join(options.dataDir, MASTER_KEY_FILE);
  // Written to a private temporary file, then linked into place: link fails if the file exists, so of several
  // processes starting at once exactly one creates the key, and none reads a half-written file.
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const key = randomBytes(32);
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, `${key.toString('base64')}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    linkSync(tmp, file);
    return E.right({ key, source: 'new file', file });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      return fail(`cannot create ${file}: ${(err as Error).message}`);
    }
  } finally {
    rmSync(tmp, { force: true });
  }
  try {
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      return fail(`${file} is readable by others (mode ${mode.toString(8)}): chmod 600 ${file}`);
    }
    const key = decode(readFileSync(file, 'utf8'), file);
    return E.isLeft(key) ? key : E.right({ key: key.right, source: 'file', file });
  } catch (err) {
    return fail(`cannot read ${file}: ${(err as Error).message}`);
  }
}

/** A value that identifies the master key without revealing it: stored with the keys to detect a wrong master key. */
export function masterKeyCheck(master: Buffer): string {
  return createHmac('sha256', master).update('crm-ledger master key check v1').digest('hex');
}
