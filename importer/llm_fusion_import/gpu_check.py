"""On a GPU machine (no MLIR, no torch: numpy only): every imported piece
staged by scripts/stage-imported-pieces.sh, its unfused and fused plans run
with `fusion-run --device cuda` on PyTorch's inputs and weights, and each
output compared with PyTorch's (RMS error relative to PyTorch's RMS, at most
1e-2 for bf16: about two roundings).

  python3 gpu_check.py FUSION_RUN [PIECES_DIR]
"""
import glob, json, os, subprocess, sys
import numpy as np
fusion_run = sys.argv[1]
root = sys.argv[2] if len(sys.argv) > 2 else os.path.dirname(os.path.abspath(__file__))
ok = True
for d in sorted(glob.glob(os.path.join(root, "*", "piece*"))):
    man = json.load(open(os.path.join(d, "manifest.json")))
    for which in ("unfused", "fused"):
        out = os.path.join(d, "gpu-" + which)
        os.makedirs(out, exist_ok=True)
        r = subprocess.run([fusion_run, os.path.join(d, which + ".json"), "--device", "cuda",
                            "--input-dir", d, "--output-dir", out], capture_output=True, text=True)
        if r.returncode:
            print("FAIL", d, which, r.stderr.strip()); ok = False; continue
        for i, e in enumerate(man["outputs"]):
            ev = np.load(os.path.join(d, e)).astype(np.float64)
            av = np.load(os.path.join(out, f"out{i}.npy")).astype(np.float64)
            diff = np.abs(av - ev)
            rms = np.sqrt((diff ** 2).mean()) / max(np.sqrt((ev ** 2).mean()), 1e-30)
            good = rms <= 1e-2
            ok &= bool(good)
            print(f"{'ok' if good else 'MISMATCH':8s} {os.path.relpath(d, root):16s} {which:8s} out {i} "
                  f"rms error {rms:.3g} max {diff.max():.3g}")
sys.exit(0 if ok else 1)
