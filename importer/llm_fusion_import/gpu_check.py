"""On a GPU machine (no MLIR, no torch: numpy only): every imported piece
staged by scripts/stage-imported-pieces.sh, its unfused and fused plans run
with `fusion-run --device cuda` on PyTorch's inputs and weights, and each
output compared with PyTorch's as check.py compares on the CPU.

  python3 gpu_check.py FUSION_RUN [PIECES_DIR]
"""
import glob
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check import compare_outputs  # noqa: E402  (numpy only)

fusion_run = sys.argv[1]
root = sys.argv[2] if len(sys.argv) > 2 else os.path.dirname(os.path.abspath(__file__))
ok = True
for d in sorted(glob.glob(os.path.join(root, "*", "piece*"))):
    for which in ("unfused", "fused"):
        out = os.path.join(d, "gpu-" + which)
        os.makedirs(out, exist_ok=True)
        r = subprocess.run([fusion_run, os.path.join(d, which + ".json"), "--device", "cuda",
                            "--input-dir", d, "--output-dir", out], capture_output=True, text=True)
        if r.returncode:
            print("FAIL", d, which, r.stderr.strip())
            ok = False
            continue
        for c in compare_outputs(d, out, fused=which == "fused"):
            ok &= c.ok
            print(f"{'ok' if c.ok else 'MISMATCH':8s} {os.path.relpath(d, root):28s} {which:8s} "
                  f"out {c.output} {c.dtype:9s} rms error {c.rms_rel:.3g} max {c.max_abs:.3g}")
sys.exit(0 if ok else 1)
