/**
 * The run folder a training run leaves:
 *
 * ```
 * RUN/
 *   config.yaml          the resolved config (every value explicit); --resume refuses a different one
 *   metrics.jsonl        one line per log (kind "train") and per evaluation (kind "eval")
 *   results.json         byte-stable final results: evaluation, forward passes, parameters (no times)
 *   report.md, *.svg     generated from the results and the metrics (byte-stable)
 *   run.json             provenance: dates, git, backend, wall and training time, throughput
 *   model.safetensors    final live weights and `puzzle_emb.weight` (PyTorch-readable)
 *   ema.safetensors      final EMA weights, when the run uses EMA
 *   submission.json      ARC only: Kaggle's attempts from the final evaluation
 *   checkpoints/         lib/train checkpoint.ts: step-NNNNNN/ folders and the `latest` pointer
 *   eval/<split>-step-NNNNNN/   what `cli eval` writes: eval.json, report.md (and submission.json)
 * ```
 *
 * The jobs around it each have their file: run_data.ts (the data and its ARC subset), build_model.ts (the
 * model of a config), reopen_run.ts (a finished or interrupted run with its weights), run_report.ts
 * (results.json and report.md) and evaluate_run.ts (evaluating a run folder).
 *
 * @module
 */

/** File names inside a run folder. */
export const RUN_FILES = {
  config: "config.yaml",
  metrics: "metrics.jsonl",
  results: "results.json",
  report: "report.md",
  provenance: "run.json",
  model: "model.safetensors",
  ema: "ema.safetensors",
  submission: "submission.json",
  evalTasks: "eval_tasks.json",
  checkpoints: "checkpoints",
  eval: "eval",
} as const;

/** The name under which checkpoints and model files keep the puzzle-embedding table. */
export const PUZZLE_TABLE = "puzzle_emb.weight";
