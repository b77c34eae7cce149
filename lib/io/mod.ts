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
export { replaceDirAtomic, writeFileAtomic, writeTextAtomic } from "./atomic.ts";
