/**
 * Error classes that decide the CLI's exit code. Anything that is the user's input being wrong (a
 * command line, a config file, a data file) is an {@linkcode InputError}: the CLI prints it with a short
 * usage and exits 2. Every other error is a runtime failure: exit 1.
 *
 * Messages say the action first, then the state, and name the file, key or task:
 * `Cannot load config "a.yaml": unknown key "train.lr_warmup"`.
 *
 * @module
 */

/** The user's input is wrong: exit code 2. */
export class InputError extends Error {
  /**
   * An error the CLI reports with exit code 2.
   *
   * @param message What was done and what was wrong, action first (`Cannot load config "a.yaml": ...`).
   * @param options The underlying cause, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "InputError";
  }
}

/** A config file, an override or a config value is wrong. */
export class ConfigError extends InputError {
  /**
   * An {@linkcode InputError} about a config.
   *
   * @param message What was done and what was wrong, naming the file and key.
   * @param options The underlying cause, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConfigError";
  }
}

/** A data file (ARC JSON, a dataset folder) is malformed or missing. */
export class DataError extends InputError {
  /**
   * An {@linkcode InputError} about a data file.
   *
   * @param message What was done and what was wrong, naming the file.
   * @param options The underlying cause, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DataError";
  }
}

/** A checkpoint is corrupt, truncated, or belongs to another config: a runtime failure (exit 1). */
export class CheckpointError extends Error {
  /**
   * An error the CLI reports with exit code 1.
   *
   * @param message What was done and what was wrong, naming the checkpoint.
   * @param options The underlying cause, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CheckpointError";
  }
}

/**
 * The work stopped because the process got a signal (SIGINT or SIGTERM) and its subprocesses were stopped
 * too: the CLI prints the message and exits 130 (SIGINT) or 143 (SIGTERM), as a shell reports a process
 * stopped by that signal.
 */
export class InterruptedError extends Error {
  /** The signal that stopped the work; it decides the exit code (130 or 143). */
  readonly signal: "SIGINT" | "SIGTERM";
  /** The work stopped by `signal`; `message` says what was stopped and how to resume. */
  constructor(signal: "SIGINT" | "SIGTERM", message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "InterruptedError";
    this.signal = signal;
  }
}
