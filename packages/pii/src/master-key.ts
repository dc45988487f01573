import { createHmac, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
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

/** Whether `file` lies inside `dir` (or is it). */
export const isInside = (file: string, dir: string): boolean => {
  const rel = path.relative(path.resolve(dir), path.resolve(file));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

/**
 * The master key that wraps every customer key: CRM_LEDGER_MASTER_KEY (base64 of 32 bytes) when set, else the
 * file (`file`, default `<dataDir>/master.key`), created with mode 0600 (random 32 bytes, base64) when missing and
 * no data exists yet. A file others can read is refused: whoever holds the master key and a copy of the key store
 * can read personal data. Once data exists (`dataExists`), a missing file is an error, never silently replaced:
 * a new key would leave every stored customer key unreadable. The `production` profile refuses a file inside the
 * data directory: any backup of the directory would then hold the key beside the keys it protects.
 */
export function loadMasterKey(options: {
  readonly fromEnvironment?: string | undefined;
  readonly dataDir: string;
  readonly file?: string;
  readonly profile?: 'development' | 'production';
  readonly dataExists?: boolean;
}): E.Either<MasterKeyError, MasterKey> {
  if (options.fromEnvironment !== undefined && options.fromEnvironment !== '') {
    const key = decode(options.fromEnvironment, 'CRM_LEDGER_MASTER_KEY');
    return E.isLeft(key) ? key : E.right({ key: key.right, source: 'environment' });
  }
  const file = path.resolve(options.file ?? path.join(options.dataDir, MASTER_KEY_FILE));
  if (options.profile === 'production' && isInside(file, options.dataDir)) {
    return fail(
      `the production profile refuses a master key inside the data directory (${file}): a backup of the directory ` +
        'would hold it beside the keys it protects. Set CRM_LEDGER_MASTER_KEY, or CRM_LEDGER_MASTER_KEY_FILE outside ' +
        `${path.resolve(options.dataDir)} (docs/privacy.md#the-master-key)`,
    );
  }
  if (options.dataExists === true && !existsSync(file)) {
    return fail(
      `the master key ${file} is missing but ${path.resolve(options.dataDir)} holds data: restore it from where you ` +
        'keep it (a new key would leave every stored customer key unreadable); it is never regenerated once data exists',
    );
  }
  // Written to a private temporary file, then linked into place: link fails if the file exists, so of several
  // processes starting at once exactly one creates the key, and none reads a half-written file.
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
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

/**
 * Reads a master key file (base64 of 32 bytes), refusing one others can read; with `create`, writes a new random
 * key there first (mode 0600) when the file does not exist. For `crm-ledger master-key rotate`.
 */
export function readMasterKeyFile(file: string, create: boolean): E.Either<MasterKeyError, MasterKey> {
  if (create && !existsSync(file)) {
    try {
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      const key = randomBytes(32);
      const fd = openSync(file, 'wx', 0o600);
      try {
        writeSync(fd, `${key.toString('base64')}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      return E.right({ key, source: 'new file', file });
    } catch (err) {
      return fail(`cannot create ${file}: ${(err as Error).message}`);
    }
  }
  try {
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) !== 0)
      return fail(`${file} is readable by others (mode ${mode.toString(8)}): chmod 600 ${file}`);
    const key = decode(readFileSync(file, 'utf8'), file);
    return E.isLeft(key) ? key : E.right({ key: key.right, source: 'file', file });
  } catch (err) {
    return fail(`cannot read ${file}: ${(err as Error).message}`);
  }
}
