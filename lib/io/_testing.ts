/**
 * Test helper: the pid of a process that has exited, for the tests of stale locks and temporaries.
 *
 * @module
 */

/**
 * The pid of a short process, once it has exited (a pid that no live process holds, barring reuse).
 *
 * @example
 * ```ts ignore
 * const pid = await deadPid();
 * ```
 */
export async function deadPid(): Promise<number> {
  const child = new Deno.Command("true", { stdout: "null", stderr: "null" }).spawn();
  await child.status;
  return child.pid;
}
