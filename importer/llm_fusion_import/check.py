"""Runs an imported piece through the C++ tools and compares with PyTorch.

The unfused module and the fused one (after `--llm-fusion-pipeline`) both run
with `fusion-run --input-dir` on PyTorch's own inputs and weights; each
output is compared with PyTorch's, as an RMS error relative to PyTorch's RMS
and as the largest element error.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass

import numpy as np

# The RMS error a module may have against PyTorch, relative, per output type:
# about two roundings of the type (PyTorch and the runtime sum matmuls in
# other orders; a raised norm drops one rounding).
RMS_TOLERANCE = {"bfloat16": 1e-2, "float16": 1.5e-3, "float32": 2e-5,
                 # One e4m3 step is 1/8 of a value's binade: a dropped bf16
                 # rounding before a quantization flips a few codes by a step.
                 "float8_e4m3fn": 6e-2}


@dataclass
class OutputCheck:
    output: int
    dtype: str
    rms_rel: float
    max_abs: float
    ok: bool
    rank: int = 0


def _run(cmd):
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def fuse(bin_dir: str, piece_dir: str) -> dict:
    """Runs the pipeline; returns the fusion report."""
    module = os.path.join(piece_dir, "module.mlir")
    report = os.path.join(piece_dir, "report.json")
    _run([os.path.join(bin_dir, "fusion-opt"), module, "--llm-fusion-pipeline",
          f"--llm-fusion-report={report}", "-o", os.path.join(piece_dir, "fused.mlir")])
    with open(report) as f:
        return json.load(f)


def _id_orders(outputs: list) -> dict:
    """Expert ids come unsorted from PyTorch (topk(sorted=False)) and in
    descending score order from the runtime: each row is compared in id
    order. For every integer output [..., k]: the per-row argsort of its ids,
    keyed by the output's shape (the weights beside it share it)."""
    orders = {}
    for o in outputs:
        if o.dtype.kind in "iu" and o.ndim >= 1 and o.shape not in orders:
            orders[o.shape] = np.argsort(o, axis=-1, kind="stable")
    return orders


def _reorder(o, orders):
    order = orders.get(o.shape)
    return o if order is None else np.take_along_axis(o, order, axis=-1)


def _resolve_ties(a, e, actual_all, expected_all, i, order_a, order_e):
    """Ids that differ only where the routing weights beside them are tied:
    a row whose ids differ but whose weights (the float output of the ids'
    shape), sorted, are the same picked an equally ranked expert. Such rows
    count as PyTorch's."""
    shape = expected_all[i].shape
    weights = [k for k, o in enumerate(expected_all) if o.shape == shape and o.dtype.kind == "f"]
    if not weights:
        return a
    we = np.sort(_reorder(expected_all[weights[0]], order_e).reshape(-1, shape[-1]), axis=-1)
    wa = np.sort(_reorder(actual_all[weights[0]], order_a).reshape(-1, shape[-1]), axis=-1)
    a2, e2 = a.reshape(-1, shape[-1]).copy(), e.reshape(-1, shape[-1])
    for row in range(a2.shape[0]):
        # The same weights from other ids: an expert outside the pick ranked
        # the same as one inside (bf16 router logits tie often).
        if (a2[row] != e2[row]).any() and np.allclose(we[row], wa[row], rtol=1e-6, atol=0):
            a2[row] = e2[row]
    return a2.reshape(a.shape)


def compare(bin_dir: str, piece_dir: str, which: str) -> list:
    """Runs `which` (module.mlir or fused.mlir) on the piece's inputs and
    compares every output with PyTorch's."""
    out_dir = os.path.join(piece_dir, "out-" + which.split(".")[0])
    os.makedirs(out_dir, exist_ok=True)
    _run([os.path.join(bin_dir, "fusion-run"), os.path.join(piece_dir, which),
          "--input-dir", piece_dir, "--output-dir", out_dir])
    return compare_outputs(piece_dir, out_dir, fused=which != "module.mlir")


def compare_outputs(piece_dir: str, out_dir: str, fused: bool) -> list:
    """Every output fusion-run wrote to `out_dir` against PyTorch's: ids in
    id order with ties resolved, floats by RMS error relative to PyTorch's
    RMS (the fused module at the tolerance of the piece's narrowest type)."""
    with open(os.path.join(piece_dir, "manifest.json")) as f:
        manifest = json.load(f)
    checks = []
    world = manifest.get("world_size", 1)
    # Errors the fusion introduces in the model's own type propagate into
    # wider outputs (a router's f32 weights from bf16 hidden states): the
    # fused module is held to the tolerance of the piece's narrowest type.
    widest_tol = max(RMS_TOLERANCE.get(d, 0.0) for d in manifest["output_dtypes"])
    with open(os.path.join(piece_dir, manifest.get("module", "module.mlir"))) as f:
        if "quant_fp8" in f.read():  # errors before a quantization come out as fp8 steps
            widest_tol = max(widest_tol, RMS_TOLERANCE["float8_e4m3fn"])
    for r in range(world):
        prefix = f"rank{r}_" if world > 1 else ""
        expected_all = [np.load(os.path.join(piece_dir, prefix + e)) for e in manifest["outputs"]]
        actual_all = [np.load(os.path.join(out_dir, f"{prefix}out{i}.npy"))
                      for i in range(len(expected_all))]
        order_e, order_a = _id_orders(expected_all), _id_orders(actual_all)
        for i, dtype in enumerate(manifest["output_dtypes"]):
            e = _reorder(expected_all[i], order_e).astype(np.float64)
            a = _reorder(actual_all[i], order_a).astype(np.float64)
            if a.shape != e.shape:
                checks.append(OutputCheck(i, dtype, float("inf"), float("inf"), False, r))
                continue
            if dtype.startswith("int"):
                a = _resolve_ties(a, e, actual_all, expected_all, i, order_a, order_e)
            d = np.abs(a - e)
            rms_rel = float(np.sqrt((d ** 2).mean()) / max(np.sqrt((e ** 2).mean()), 1e-30))
            if dtype.startswith("int"):
                tol = 0.0
            elif not fused:
                tol = RMS_TOLERANCE.get(dtype, 0.0)
            else:
                tol = max(RMS_TOLERANCE.get(dtype, 0.0), widest_tol)
            checks.append(OutputCheck(i, dtype, rms_rel, float(d.max()), rms_rel <= tol, r))
    return checks
