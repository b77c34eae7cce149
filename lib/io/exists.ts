/**
 * Whether a path is there: `exists` and `isDirectory` answer false only for a path that does not exist;
 * any other failure (no permission, say) is thrown, not taken for absence.
 *
 * @module
 */

/**
 * Whether `path` exists (a file, a folder or anything else `Deno.stat` can see).
 *
 * @example
 * ```ts
 * import { exists } from "./exists.ts";
 * await exists(Deno.cwd()); // true
 * ```
 */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * Whether `path` is a folder; false where it is missing or something else.
 *
 * @example
 * ```ts
 * import { isDirectory } from "./exists.ts";
 * await isDirectory(Deno.cwd()); // true
 * ```
 */
export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * The text of the file at `path`, or null where there is none; any other failure is thrown.
 *
 * @example
 * ```ts
 * import { readTextIfExists } from "./exists.ts";
 * await readTextIfExists("/no/such/file"); // null
 * ```
 */
export async function readTextIfExists(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}
