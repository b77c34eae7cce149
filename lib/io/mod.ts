/**
 * File helpers shared by every area: atomic writes, and whether a path exists.
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
export { exists, isDirectory } from "./exists.ts";
