#!/usr/bin/env bash
# The GPU check of issue 6, for one call on the H200 device machine (about 6-8 minutes of device time).
#
# Here, first (once per dependency change):  ../shared/device/prepare.sh   (builds .device/, ~32 MiB)
# Then one device call:   run(command="bash tools/bench/gpu_check.sh", carry=[".device"], timeout_s=600)
#
# What it does, each stage under its own time limit so that one slow stage cannot eat the others:
#   1. parity of TRM/DIS with the PyTorch fixture on webgpu (the real GPU), and the fused-op tests;
#   2. `bench` on webgpu: dis-compact-nqueens at batch 512 and 64, dis-compact-arc at batch 64, each with
#      PyTorch on the same GPU (fp32, TF32 off) alternating unit by unit, and a kernel profile (on webgpu
#      the profile is the CPU-side time per kernel: dispatch and bookkeeping, which bounded the 5.4 s step);
#   3. the same DIS preset on the wasm backend (16 cores) for scale.
# Everything lands in $OUT (logs and one JSON line per measurement); the tables are printed last.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp/gpu_check}
mkdir -p "$out"
if [ -f .device/setup.sh ]; then
  # shellcheck disable=SC1091
  source .device/setup.sh >"$out/setup.log" 2>&1 || { cat "$out/setup.log"; exit 1; }
fi
flags=(-A --cached-only)
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >"$out/gpu.txt" 2>&1
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())' >>"$out/gpu.txt" 2>&1

stage() { # stage NAME SECONDS CMD...: runs, logs to $out/NAME.log, notes the exit code
  local name=$1 secs=$2
  shift 2
  local t0=$SECONDS
  timeout "$secs" "$@" >"$out/$name.log" 2>&1
  echo "$name: exit $? after $((SECONDS - t0)) s" | tee -a "$out/stages.txt"
}

stage parity 150 deno test "${flags[@]}" tests/parity_test.ts lib/backend/fused_test.ts
bench=(deno run "${flags[@]}" mod.ts bench --json --profile)
stage nqueens512 150 "${bench[@]}" --backend webgpu --preset dis-compact-nqueens --batch 512 --repeats 3
stage nqueens64 60 "${bench[@]}" --backend webgpu --preset dis-compact-nqueens --batch 64 --repeats 3 --no-infer
stage arc64 120 "${bench[@]}" --backend webgpu --preset dis-compact-arc --batch 64 --repeats 2 --no-infer
stage wasm64 60 "${bench[@]}" --backend wasm --preset dis-compact-nqueens --batch 64 --repeats 2 --no-infer --no-reference

cat "$out/gpu.txt" "$out/stages.txt"
grep -h "^parity webgpu\|maxdiff\|ok |FAILED" "$out/parity.log" | cut -c1-220
for f in nqueens512 nqueens64 arc64 wasm64; do
  grep -h '^{' "$out/$f.log" >"$out/$f.jsonl" 2>/dev/null
  python3 - "$out/$f.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    keys = ["preset", "backend", "batch", "train_unit_ms", "train_samples_per_s", "infer_samples_per_s",
            "torch_device", "torch_train_samples_per_s", "torch_infer_samples_per_s", "train_ratio", "infer_ratio",
            "gpu_peak_bytes", "peak_rss_bytes"]
    print(" ".join(f"{k}={r.get(k)}" for k in keys))
    p = r.get("profile")
    if p:
        top = ", ".join(f"{k['name']} {k['count']}x {k['ms']:.0f}ms" for k in p["kernels"][:8])
        print(f"  profile: wall {p['wallMs']:.0f} ms, {p['launches']} launches, kernels' CPU time {p['kernelMs']:.0f} ms: {top}")
PY
done
