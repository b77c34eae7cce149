/**
 * File helpers shared by every area: atomic writes, whether a path exists, and reading a file that may be absent.
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
export { namedWriteError, WriteError } from "./write_error.ts";
