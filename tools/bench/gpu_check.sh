#!/usr/bin/env bash
# The GPU check of issue 6, for one call on the H200 device machine (at most ~8 minutes of device time).
#
# Here, first (once per dependency change): the device preparation script (builds .device/, ~32 MiB)
# Then one device call:   run(command="bash tools/bench/gpu_check.sh", carry=[".device"], timeout_s=560)
# Smoke test of the script itself on any machine with a webgpu adapter (lavapipe is enough; tiny batches,
# no PyTorch, minutes):   GPU_CHECK_DRY=1 bash tools/bench/gpu_check.sh
#
# Stages, most important first, each under its own time limit and all under one budget (BUDGET_S,
# default 450 s): a stage that would start with less than its limit left runs with what is left, and
# stages after the budget is spent are skipped (and say so).
#   tests       webgpu correctness on the real GPU: the WGSL kernels against the op chains, the device
#               sign-SGD against the host's bit for bit, the device puzzle table against the host table,
#               TRM/DIS parity with the PyTorch fixture;
#   nq512       dis-compact-nqueens, batch 512, everything on (WGSL kernels, no CPU forwarding, puzzle table
#               on the device), PyTorch fp32 (TF32 off) on the same GPU alternating unit by unit, and a kernel
#               profile (on webgpu: the CPU-side time per kernel, dispatch and bookkeeping): the issue's target;
#   nq8         the same at batch 8 (issue 14's host-cost figures: dispatches, host ms, readbacks and buffer
#               acquisitions per training unit and per inference call; compare with docs/performance.md's
#               lavapipe figures, which do not depend on the adapter except for the time inside submit);
#   nq512_nokern   the same without the WGSL kernels (TRM_DIS_WEBGPU_KERNELS=0; this also turns off the
#               fused optimiser update): what the kernels buy;
#   nq512_host     the same with the puzzle table on the host (a [B, D] gradient readback per supervision
#               step), plus inference beside PyTorch's (inference reads the host table);
#   nq512_cpufwd   the same with tfjs's CPU forwarding back on (TRM_DIS_WEBGPU_CPU_FORWARD=1): the y/z
#               broadcasts tiled in JavaScript, as before this work;
#   arc64       dis-compact-arc, batch 64, everything on, beside PyTorch;
#   nq512_sub64    submit batching 64 instead of tfjs's 15 (TRM_DIS_WEBGPU_SUBMIT_BATCH=64).
# Everything lands in $OUT (logs and one JSON line per measurement); the summary is printed last.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp/gpu_check}
mkdir -p "$out"
: >"$out/stages.txt"
if [ -f .device/setup.sh ]; then
  # shellcheck disable=SC1091
  source .device/setup.sh >"$out/setup.log" 2>&1 || { cat "$out/setup.log"; exit 1; }
fi
flags=(-A)
[ -d .device ] && flags+=(--cached-only)
dry=${GPU_CHECK_DRY:-0}
budget=${BUDGET_S:-450}
if [ "$dry" = 1 ]; then big=2 small=2 ref=(--no-reference) reps=(--repeats 1 --warmup 1); else
  big=512 small=64 ref=() reps=(--repeats 3 --warmup 1); fi
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
t_start=$SECONDS
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 || echo "no nvidia-smi"
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())' 2>&1
  nproc
} >"$out/gpu.txt"

stage() { # stage NAME SECONDS [VAR=VALUE...] CMD...: runs under the limit and the budget, logs to $out/NAME.log
  local name=$1 secs=$2
  shift 2
  local left=$((budget - (SECONDS - t_start)))
  if [ "$left" -lt 20 ]; then
    echo "$name: skipped (budget of ${budget} s spent)" | tee -a "$out/stages.txt"
    return
  fi
  [ "$secs" -gt "$left" ] && secs=$left
  local t0=$SECONDS
  timeout "$secs" env "$@" >"$out/$name.log" 2>&1
  local rc=$?
  echo "$name: exit $rc after $((SECONDS - t0)) s (limit $secs s)" | tee -a "$out/stages.txt"
  grep -h '^{' "$out/$name.log" >"$out/$name.jsonl" 2>/dev/null
}

bench=(deno run "${flags[@]}" mod.ts bench --json)
nq=(--backend webgpu --preset dis-compact-nqueens --batch "$big")
dev=(TRM_DIS_PUZZLE_TABLE=device)

stage tests 100 deno test "${flags[@]}" lib/backend/webgpu_kernels_test.ts lib/model/webgpu_training_test.ts \
  tests/parity_test.ts --filter "/webgpu|device|sign-SGD|TRM_DIS|grid/"
stage nq512 130 "${dev[@]}" "${bench[@]}" "${nq[@]}" "${reps[@]}" --no-infer --profile "${ref[@]}"
stage nq8 60 "${dev[@]}" "${bench[@]}" --backend webgpu --preset dis-compact-nqueens --batch 8 --repeats 2 \
  --warmup 1 --no-reference
stage nq512_nokern 60 "${dev[@]}" TRM_DIS_WEBGPU_KERNELS=0 "${bench[@]}" "${nq[@]}" --repeats 2 --warmup 1 \
  --no-infer --no-reference
stage nq512_host 80 "${bench[@]}" "${nq[@]}" --repeats 2 --warmup 1 "${ref[@]}"
stage nq512_cpufwd 50 "${dev[@]}" TRM_DIS_WEBGPU_CPU_FORWARD=1 "${bench[@]}" "${nq[@]}" --repeats 1 --warmup 1 \
  --no-infer --no-reference
stage arc64 80 "${dev[@]}" "${bench[@]}" --backend webgpu --preset dis-compact-arc --batch "$small" --repeats 2 \
  --warmup 1 --no-infer "${ref[@]}"
stage nq512_sub64 40 "${dev[@]}" TRM_DIS_WEBGPU_SUBMIT_BATCH=64 "${bench[@]}" "${nq[@]}" --repeats 2 --warmup 1 \
  --no-infer --no-reference

{
  cat "$out/gpu.txt" "$out/stages.txt"
  echo "total: $((SECONDS - t_start)) s"
  grep -hE "^ok \||FAILED|passed|failed|worst rel diff|differ from|parity webgpu|skipped" "$out/tests.log" 2>/dev/null |
    cut -c1-200
  for f in nq512 nq8 nq512_nokern nq512_host nq512_cpufwd arc64 nq512_sub64; do
    [ -s "$out/$f.jsonl" ] || { echo "$f: no measurement (see $f.log)"; continue; }
    python3 - "$f" "$out/$f.jsonl" <<'PY'
import json, sys
name = sys.argv[1]
for line in open(sys.argv[2]):
    r = json.loads(line)
    keys = ["preset", "batch", "train_unit_ms", "train_samples_per_s", "infer_samples_per_s",
            "torch_train_samples_per_s", "torch_infer_samples_per_s", "train_ratio", "infer_ratio",
            "gpu_peak_bytes", "peak_rss_bytes", "backend_fusedKernels", "backend_cpuForward", "backend_submitBatch"]
    print(f"{name}: " + " ".join(f"{k}={r.get(k)}" for k in keys))
    for unit in ("gpu_train", "gpu_infer"):
        g = r.get(unit)
        if g:
            print(f"  {unit}: " + " ".join(f"{k.replace('_per_unit', '')}={v}" for k, v in g.items()))
    p = r.get("profile")
    if p:
        top = ", ".join(f"{k['name']} {k['count']}x {k['ms']:.0f}ms" for k in p["kernels"][:10])
        print(f"  profile: wall {p['wallMs']:.0f} ms, {p['launches']} launches, kernels' CPU time "
              f"{p['kernelMs']:.0f} ms: {top}")
PY
  done
} | tee "$out/summary.txt"
