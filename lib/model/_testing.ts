/**
 * Test fixtures shared by lib/model's tests, the trainer tests and the leak and analysis tests: the tiny
 * model shape, the DIS recipe of the released code at N_sup = 3, and the trainer tests' tiny TRM and DIS
 * recipes (lib/train/_testing.ts builds a model, its optimisers and its trainer from them).
 *
 * @module
 */
import { type BackboneConfig, backboneFor, type DisConfig, type MethodConfig, type TrmConfig } from "./config.ts";

/**
 * A tiny backbone (D = 16, 2 heads, one layer, 3 tokens) for `method` over sequences of `seqLen` tokens and
 * `numPuzzleIds` puzzle ids; `over` changes single fields.
 */
export function tinyBackbone(
  method: MethodConfig,
  data: { seqLen: number; numPuzzleIds: number },
  over: Partial<BackboneConfig> = {},
): BackboneConfig {
  return backboneFor(
    { hidden: 16, heads: 2, layers: 1, expansion: 4, mlpMultiple: 16, puzzleEmbLen: 2, ...over },
    { vocabSize: 3, ...data },
    method,
  );
}

/** DIS as the released code runs it (reveal targets, uniform step weights, autoregressive input), N_sup = 3. */
export const REVEAL_DIS: DisConfig = {
  method: "dis",
  nSup: 3,
  hCycles: 1,
  lCycles: 2,
  targets: "reveal",
  stepWeights: "uniform",
  autoregressive: true,
  loss: "stablemax",
};

/** The trainer tests' TRM: N_sup = 3, T = 2, n = 1, exploring 30% of the time. */
export const TRAINER_TRM: TrmConfig = {
  method: "trm",
  nSup: 3,
  hCycles: 2,
  lCycles: 1,
  haltExplorationProb: 0.3,
  qLossWeight: 0.5,
  loss: "stablemax",
};

/** The trainer tests' DIS: N_sup = 3, T = 1, n = 2, reveal targets with linear step weights. */
export const TRAINER_DIS: DisConfig = {
  method: "dis",
  nSup: 3,
  hCycles: 1,
  lCycles: 2,
  targets: "reveal",
  stepWeights: "linear",
  autoregressive: true,
  loss: "stablemax",
};
