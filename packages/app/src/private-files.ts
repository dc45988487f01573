import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';

/**
 * Makes the data directory private whatever the umask it was created with: the directory (and any below it)
 * 0700, every file in it 0600 (ledger, read models, key stores, their -wal and -shm files, master.key,
 * admin.key). Symbolic links are left alone. Run by every process that opens the data directory; processes
 * also run with umask 077 (their `main`), so files they create later are private from the start.
 */
export function securePrivateDirectory(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const walk = (d: string): void => {
    chmodSync(d, 0o700);
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      const st = lstatSync(p, { throwIfNoEntry: false });
      if (st === undefined || st.isSymbolicLink()) continue;
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && (st.mode & 0o077) !== 0) chmodSync(p, 0o600);
    }
  };
  walk(dir);
}

/** Files this process creates from now on are private (0600 files, 0700 directories). For a process's `main`. */
export function privateUmask(): void {
  process.umask(0o077);
}
