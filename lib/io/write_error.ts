/**
 * Write failures that name the file: the operating system's "No space left on device (os error 28)"
 * from a write says neither which file nor which disk. {@linkcode namedWriteError} turns such an error
 * (any error carrying an OS error code: ENOSPC, EDQUOT, EIO, EROFS, EFBIG, ...) into a
 * {@linkcode WriteError} that names the file being written, keeping the original as its `cause`.
 *
 * @module
 */

/** A write that failed, with the file it was writing. A runtime failure (exit 1), not an input error. */
export class WriteError extends Error {
  /** The file (or folder) being written. */
  readonly path: string;
  /** A failed write of `path`; `message` says what happened, `options.cause` keeps the OS error. */
  constructor(path: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "WriteError";
    this.path = path;
  }
}

const HINTS: Record<string, string> = {
  ENOSPC: "the disk that holds it is full; free space there or write elsewhere",
  EDQUOT: "the disk quota is used up; free space or write elsewhere",
  EFBIG: "the file would exceed the largest size allowed",
  EROFS: "it is on a read-only file system",
  EIO: "an input/output error on its device",
};

/**
 * `e` as a {@linkcode WriteError} naming `path` when it is an OS error that does not name a file yet;
 * any other error (a `WriteError` already, or one of the program's own) is returned as it is.
 *
 * @example
 * ```ts
 * import { namedWriteError } from "./write_error.ts";
 * const osError = Object.assign(new Error("No space left on device (os error 28)"), { code: "ENOSPC" });
 * namedWriteError("runs/x/metrics.jsonl", osError).message;
 * // 'Cannot write "runs/x/metrics.jsonl": No space left on device (os error 28) (the disk that holds it is full; free space there or write elsewhere)'
 * ```
 */
export function namedWriteError(path: string, e: unknown): unknown {
  if (e instanceof WriteError || !(e instanceof Error)) return e;
  const code = (e as { code?: unknown }).code;
  if (typeof code !== "string" || !/^E[A-Z0-9]+$/.test(code)) return e;
  const hint = HINTS[code];
  return new WriteError(path, `Cannot write "${path}": ${e.message}${hint ? ` (${hint})` : ""}`, { cause: e });
}
