/**
 * TRM's batch sampler (`puzzle_dataset.py`: `_sample_batch`, `_iter_train`, `_iter_test`) over any split
 * laid out as TRM lays out its arrays: groups of puzzles (a task and its augmentations), puzzles of
 * examples. Examples are materialised per batch from the split, never held densely.
 *
 * Training: each iteration shuffles the groups (`epochsPerIter` shuffles concatenated), then fills each
 * batch by taking the next group, picking one of its puzzles at random and adding that puzzle's examples
 * in random order until the batch is full; the rest of that puzzle is dropped, and so is the last
 * incomplete batch of the iteration. Testing: every example in order, the last batch padded.
 *
 * @module
 */
import { Rng, type RngState } from "../random/mod.ts";
import { counterRng, seedWords } from "./_hash.ts";

/** Label value that the loss ignores (TRM's `IGNORE_LABEL_ID`). */
export const IGNORE_LABEL: number = -100;

/**
 * One split (train or test) in TRM's layout: `groupIndices` [G+1] are puzzle ranges per group,
 * `puzzleIndices` [P+1] example ranges per puzzle, `puzzleIdentifiers` [P] the embedding id per puzzle.
 */
export interface PuzzleSplit {
  /** Tokens per example (L). */
  readonly seqLen: number;
  /** Vocabulary size: token ids are `0 .. vocabSize - 1`. */
  readonly vocabSize: number;
  /** Number of puzzle identifiers, including the blank id 0. */
  readonly numIdentifiers: number;
  /** Label token that is not supervised (becomes -100), or null when every token is. TRM: 0 (PAD). */
  readonly ignoreLabelId: number | null;
  /** Group g holds puzzles `groupIndices[g] .. groupIndices[g + 1]` [G + 1]. */
  readonly groupIndices: Int32Array;
  /** Puzzle p holds examples `puzzleIndices[p] .. puzzleIndices[p + 1]` [P + 1]. */
  readonly puzzleIndices: Int32Array;
  /** Embedding id of each puzzle [P]. */
  readonly puzzleIdentifiers: Int32Array;
  /**
   * Writes example `e`'s raw input and label tokens at `[at, at + seqLen)` of buffers that are zero there
   * (labels raw: the ignore id is not yet mapped to -100).
   */
  writeExample(e: number, inputs: Uint8Array | Int32Array, labels: Uint8Array | Int32Array, at: number): void;
}

/** A batch: `inputs` and `labels` [B * seqLen], `puzzleIds` [B]; rows past `size` are padding. */
export interface Batch {
  /** Input tokens, row-major [B * seqLen]. */
  inputs: Int32Array;
  /** Label tokens [B * seqLen], with unsupervised positions set to {@linkcode IGNORE_LABEL}. */
  labels: Int32Array;
  /** Embedding id of each row's puzzle [B]. */
  puzzleIds: Int32Array;
  /** Rows that hold real examples (the rest is padding: inputs PAD 0, labels -100, id 0). */
  size: number;
}

/** Where a {@linkcode TrainSampler} stands, as plain JSON for checkpoints. */
export interface SamplerState {
  /** Layout version of this state. */
  version: 1;
  /** The sampler's seed. */
  seed: number;
  /** Examples per batch. */
  batchSize: number;
  /** Group shuffles concatenated per iteration. */
  epochsPerIter: number;
  /** Groups in the split, to check the state is resumed on the same split. */
  numGroups: number;
  /** Iterations started so far (TRM's `_iters`); 0 before the first batch. */
  iteration: number;
  /** Position in the current iteration's group order. */
  start: number;
  /** The generator inside the current iteration, or null before the first batch. */
  rng: RngState | null;
}

/** Number of examples in a split. */
export function numExamples(split: PuzzleSplit): number {
  return split.puzzleIndices[split.puzzleIndices.length - 1];
}

/** Index of the range holding `x` in sorted boundaries `bounds` (TRM's `searchsorted(..., "right") - 1`). */
export function rangeOf(bounds: Int32Array, x: number): number {
  let lo = 0;
  let hi = bounds.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (bounds[mid] <= x) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * Materialises examples into a batch of `batchSize` rows: `examples[i]` with puzzle `puzzles[i]`.
 * Labels equal to the split's ignore id become -100; padding rows are PAD inputs, -100 labels, id 0.
 */
export function materialise(
  split: PuzzleSplit,
  examples: ArrayLike<number>,
  puzzles: ArrayLike<number>,
  batchSize: number,
): Batch {
  const L = split.seqLen;
  const n = examples.length;
  if (n > batchSize) throw new RangeError(`Cannot materialise ${n} examples into a batch of ${batchSize}`);
  const inputs = new Int32Array(batchSize * L); // [B, L]
  const labels = new Int32Array(batchSize * L); // [B, L]
  const puzzleIds = new Int32Array(batchSize); // [B]
  for (let i = 0; i < n; i++) {
    split.writeExample(examples[i], inputs, labels, i * L);
    puzzleIds[i] = split.puzzleIdentifiers[puzzles[i]];
  }
  const ignore = split.ignoreLabelId;
  for (let k = 0; k < n * L; k++) if (labels[k] === ignore) labels[k] = IGNORE_LABEL;
  labels.fill(IGNORE_LABEL, n * L);
  return { inputs, labels, puzzleIds, size: n };
}

/**
 * TRM's training stream: an endless sequence of full batches, resumable from {@linkcode state}.
 *
 * @example
 * ```ts ignore
 * const sampler = new TrainSampler(split, { batchSize: 768, seed: 0 });
 * const batch = sampler.next(); // batch.inputs: Int32Array [768 * seqLen]
 * const saved = sampler.state(); // JSON, for a checkpoint
 * const resumed = TrainSampler.fromState(split, saved); // continues the same stream
 * ```
 */
export class TrainSampler {
  /** The split batches are drawn from. */
  readonly split: PuzzleSplit;
  /** Examples per batch. */
  readonly batchSize: number;
  /** Seed of the group shuffles and puzzle picks. */
  readonly seed: number;
  /** Group shuffles concatenated per iteration (TRM's `epochs_per_iter`). */
  readonly epochsPerIter: number;
  #iteration = 0;
  #start = 0;
  #order: Int32Array = new Int32Array(0);
  #rng: Rng | null = null;
  #yielded = false;
  #key: [number, number];

  /**
   * Starts before the first iteration; `epochsPerIter` defaults to 1. Throws RangeError for a batch size or
   * `epochsPerIter` that is not a positive integer.
   */
  constructor(split: PuzzleSplit, opts: { batchSize: number; seed: number; epochsPerIter?: number }) {
    const { batchSize, seed, epochsPerIter = 1 } = opts;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(`Cannot create a sampler: batch size must be a positive integer, got ${batchSize}`);
    }
    if (!Number.isInteger(epochsPerIter) || epochsPerIter < 1) {
      throw new RangeError(`Cannot create a sampler: epochsPerIter must be a positive integer, got ${epochsPerIter}`);
    }
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RangeError(`Cannot create a sampler: seed must be a non-negative safe integer, got ${seed}`);
    }
    this.split = split;
    this.batchSize = batchSize;
    this.seed = seed;
    this.epochsPerIter = epochsPerIter;
    this.#key = seedWords(seed);
  }

  /** Restores a sampler saved by {@linkcode state} on the same split. */
  static fromState(split: PuzzleSplit, s: SamplerState): TrainSampler {
    const numGroups = split.groupIndices.length - 1;
    if (s.version !== 1 || s.numGroups !== numGroups) {
      throw new RangeError(
        `Cannot restore the sampler: the state is for ${s.numGroups} groups (version ${s.version}), the split has ${numGroups}`,
      );
    }
    const sampler = new TrainSampler(split, s);
    sampler.#iteration = s.iteration;
    sampler.#start = s.start;
    if (s.rng !== null) {
      sampler.#order = sampler.#shuffle(s.iteration).order;
      sampler.#rng = Rng.fromState(s.rng);
      sampler.#yielded = true;
    }
    return sampler;
  }

  /** Iterations started so far (1 during the first). */
  get iteration(): number {
    return this.#iteration;
  }

  /** The position, as JSON for a checkpoint. */
  state(): SamplerState {
    return {
      version: 1,
      seed: this.seed,
      batchSize: this.batchSize,
      epochsPerIter: this.epochsPerIter,
      numGroups: this.split.groupIndices.length - 1,
      iteration: this.#iteration,
      start: this.#start,
      rng: this.#rng === null ? null : this.#rng.state(),
    };
  }

  #shuffle(iteration: number): { order: Int32Array; rng: Rng } {
    // The order is a function of (seed, iteration), so a restored sampler rebuilds it exactly; the rng
    // that continues from the shuffles is then restored from the saved state.
    const rng = counterRng(this.#key, iteration, 0x5a4d);
    const G = this.split.groupIndices.length - 1;
    const order = new Int32Array(G * this.epochsPerIter);
    for (let e = 0; e < this.epochsPerIter; e++) order.set(rng.permutation(G), e * G);
    return { order, rng };
  }

  /** The next full batch (`size === batchSize`). */
  next(): Batch {
    for (;;) {
      if (this.#rng === null || this.#start >= this.#order.length) {
        if (this.#rng !== null && !this.#yielded) {
          throw new RangeError(
            `Cannot fill a batch of ${this.batchSize}: an iteration over ${this.#order.length} groups yields fewer examples`,
          );
        }
        this.#iteration += 1;
        const { order, rng } = this.#shuffle(this.#iteration);
        this.#order = order;
        this.#rng = rng;
        this.#start = 0;
        this.#yielded = false;
      }
      const rng = this.#rng;
      const { groupIndices, puzzleIndices } = this.split;
      const examples: number[] = [];
      const puzzles: number[] = [];
      while (this.#start < this.#order.length && examples.length < this.batchSize) {
        const g = this.#order[this.#start];
        const p = groupIndices[g] + rng.int(groupIndices[g + 1] - groupIndices[g]);
        this.#start += 1;
        const first = puzzleIndices[p];
        const size = puzzleIndices[p + 1] - first;
        const take = Math.min(size, this.batchSize - examples.length);
        for (const j of rng.sample(size, take)) {
          examples.push(first + j);
          puzzles.push(p);
        }
      }
      if (examples.length === this.batchSize) {
        this.#yielded = true;
        return materialise(this.split, examples, puzzles, this.batchSize);
      }
      // The iteration ran out mid-batch: TRM drops the incomplete batch; the loop starts the next one.
    }
  }
}

/**
 * TRM's test iterator: every example in order, `batchSize` at a time; the last batch is padded with
 * PAD inputs, -100 labels and the blank id 0.
 *
 * @example
 * ```ts ignore
 * for (const batch of testBatches(split, 768)) use(batch.inputs, batch.size);
 * ```
 */
export function* testBatches(split: PuzzleSplit, batchSize: number): Generator<Batch> {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`Cannot iterate the test split: batch size must be a positive integer, got ${batchSize}`);
  }
  const total = numExamples(split);
  let p = 0;
  for (let start = 0; start < total; start += batchSize) {
    const end = Math.min(total, start + batchSize);
    const examples: number[] = [];
    const puzzles: number[] = [];
    for (let e = start; e < end; e++) {
      while (split.puzzleIndices[p + 1] <= e) p++;
      examples.push(e);
      puzzles.push(p);
    }
    yield materialise(split, examples, puzzles, batchSize);
  }
}
