/**
 * Replacing a file so that a crash at any moment leaves either the old file or the new one,
 * whole: write a temporary file next to it, sync it, rename it over the target, then sync the
 * directory so that the rename itself is durable. Every file gocache rewrites goes this way.
 */

/** The directory part of `path` ("." for a bare name). */
export function directoryOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "." : path.slice(0, slash) || "/";
}

/** Syncs a directory so that a rename inside it survives a crash (best effort). */
export async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await Deno.open(dir, { read: true });
    try {
      await handle.sync();
    } finally {
      handle.close();
    }
  } catch {
    // Some file systems cannot sync a directory; the rename itself is still atomic.
  }
}

/** {@link syncDirectory} for callers that must not yield (SAVE). */
export function syncDirectorySync(dir: string): void {
  try {
    const handle = Deno.openSync(dir, { read: true });
    try {
      handle.syncSync();
    } finally {
      handle.close();
    }
  } catch {
    // As syncDirectory.
  }
}

/**
 * Writes `path` atomically: `write` fills a temporary file, which is then synced and renamed
 * over `path`. If `write` throws, the temporary file is removed and `path` is left untouched.
 */
export async function writeAtomically<T>(
  path: string,
  write: (file: Deno.FsFile) => Promise<T>,
): Promise<T> {
  const temp = `${path}.${Deno.pid}.tmp`;
  const file = await Deno.open(temp, { write: true, create: true, truncate: true });
  let result: T;
  try {
    result = await write(file);
    await file.syncData();
  } catch (e) {
    file.close();
    await Deno.remove(temp).catch(() => {});
    throw e;
  }
  file.close();
  await Deno.rename(temp, path);
  await syncDirectory(directoryOf(path));
  return result;
}

/**
 * {@link writeAtomically} for callers that must not yield (CONFIG REWRITE, nodes.conf): `bytes`
 * go to a temporary file, which is synced and renamed over `path`; on failure `path` is left
 * untouched. Without `durable` nothing is synced: the rename is still atomic, but a crash of the
 * machine may lose it (nodes.conf changes that touch no epoch, as Redis writes them).
 */
export function writeAtomicallySync(path: string, bytes: Uint8Array, durable = true): void {
  const temp = `${path}.${Deno.pid}.tmp`;
  try {
    const file = Deno.openSync(temp, { write: true, create: true, truncate: true });
    try {
      let written = 0;
      while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
      if (durable) file.syncDataSync();
    } finally {
      file.close();
    }
    Deno.renameSync(temp, path);
  } catch (e) {
    try {
      Deno.removeSync(temp);
    } catch {
      // Not created, or already renamed.
    }
    throw e;
  }
  if (durable) syncDirectorySync(directoryOf(path));
}
