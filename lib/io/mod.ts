/**
 * File helpers shared by every area: atomic writes, whether a path exists, reading a file that may be absent,
 * output folders and what may be written over them, one writer per folder (locks), and the safe removal of
 * temporaries a killed process left.
 *
 * @example
 * ```ts
 * import { writeTextAtomic } from "./mod.ts";
 * await writeTextAtomic(await Deno.makeTempFile(), "hello\n");
 * ```
 *
 * @module
 */
export { replaceDirAtomic, writeFileAtomic, writeStreamAtomic, writeTextAtomic } from "./atomic.ts";
export { exists, isDirectory, readTextIfExists } from "./exists.ts";
export {
  checkOutput,
  claimOutput,
  inspectOutput,
  LEGACY,
  OUTPUT_MARKER,
  type OutputEntries,
  OutputError,
  type OutputKind,
  type OutputMarker,
  type OutputState,
  replaceOutputDir,
} from "./output.ts";
export {
  type FolderLock,
  FolderLockedError,
  LOCK_FILE,
  lockFolder,
  type LockInfo,
  type LockTakeover,
  onLockTakeover,
  withFolderLock,
} from "./lock.ts";
export { parseTempName, pidAlive, type SweepOptions, sweepStaleTemps, tempName } from "./temp.ts";
export { namedWriteError, WriteError } from "./write_error.ts";
