/**
 * File helpers shared by every area: atomic writes.
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
