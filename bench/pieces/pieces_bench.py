#!/usr/bin/env python3
"""Whole pieces of imported real layers on the GPU: our fused plan, our
unfused plan, and the same PyTorch code eager and under torch.compile, per
piece, in one run (issue 15).

The pieces are what scripts/stage-imported-pieces.sh staged in .gpu/imported
(each model family's layer cut at attention and the opaque regions; the
importer saves each piece's aten graph as piece.pt beside its plans). Every
variant runs on the piece's own arguments (PyTorch's values at the cut) and
is timed the same way: captured in one CUDA graph, 10 replays between
synchronizations, wall clock per replay, median over --repeat timings (what
`fusion-run --cuda-graph --bench` measures for our plans).

  python3 bench/pieces/pieces_bench.py --fusion-run BUILD/bin/fusion-run \
      --pieces .gpu/imported --out $OUT            (bench/pieces/run.sh)
"""

import argparse
import glob
import json
import os
import re
import statistics
import subprocess
import sys
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "importer"))
from llm_fusion_import.piece_torch import (load_module, load_piece, random_args,  # noqa: E402
                                           read_manifest)

REPLAYS = 10


def ours_us(fusion_run, plan, piece, repeat, tokens):
    """fusion-run's per-replay median of the plan captured in a CUDA graph,
    on the piece's arguments or (tokens) random ones with that token count."""
    inputs = ["--dim", str(tokens)] if tokens else ["--input-dir", piece]
    r = subprocess.run([fusion_run, plan, "--device", "cuda", "--cuda-graph", *inputs,
                        "--bench", "--repeat", str(repeat), "--warmup", "3"],
                       capture_output=True, text=True)
    m = re.search(r"bench: median ([0-9.eE+-]+) ms", r.stdout)
    if r.returncode or not m:
        raise RuntimeError((r.stderr or r.stdout).strip().splitlines()[-1:])
    return float(m.group(1)) * 1e3


def graph_us(fn, repeat):
    """fn captured in one CUDA graph: per-replay wall time, median."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            fn()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        fn()
    times = []
    for i in range(repeat + 3):
        torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(REPLAYS):
            graph.replay()
        torch.cuda.synchronize()
        if i >= 3:
            times.append((time.perf_counter() - start) / REPLAYS * 1e6)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fusion-run", required=True)
    ap.add_argument("--pieces", default=os.path.join(ROOT, ".gpu", "imported"))
    ap.add_argument("--out", default=".")
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--tokens", type=int, default=0,
                    help="random arguments with this token count instead of the staged .npy "
                         "(pieces staged with NO_DATA=1, e.g. published sizes)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    props = torch.cuda.get_device_properties(0)
    result = {"device": props.name, "torch": torch.__version__,
              "date": time.strftime("%Y-%m-%d"), "tokens": args.tokens or "staged", "rows": []}
    for piece in sorted(glob.glob(os.path.join(args.pieces, "*", "piece*"))):
        name = os.path.relpath(piece, args.pieces)
        if read_manifest(piece).get("world_size", 1) != 1:
            continue
        row = {"piece": name}
        for which in ("fused", "unfused"):
            try:
                row[which] = ours_us(args.fusion_run, os.path.join(piece, which + ".json"),
                                     piece, args.repeat, args.tokens)
            except Exception as e:  # one broken variant must not lose the others
                row[which + "_error"] = str(e)[:200]
        if args.tokens:
            gm = load_module(piece, "cuda")
            loaded = None if gm is None else (gm, random_args(piece, args.tokens, "cuda"))
        else:
            loaded = load_piece(piece, "cuda")
        if loaded is None:
            row["torch_error"] = "no piece.pt"
        else:
            gm, inputs = loaded
            variants = [("eager", gm)]
            if not args.no_compile:
                variants.append(("compile", torch.compile(gm, dynamic=True)))
            for label, fn in variants:
                try:
                    with torch.no_grad():
                        row[label] = graph_us(lambda: fn(*inputs), args.repeat)
                except Exception as e:
                    row[label + "_error"] = str(e)[:200]
        result["rows"].append(row)
        print(json.dumps(row), flush=True)
        with open(os.path.join(args.out, "pieces.json"), "w") as f:
            json.dump(result, f, indent=1)

    def cell(row, key):
        return f"{row[key]:.2f}" if key in row else "err"

    lines = [f"# Imported pieces ({result['device']}; torch {result['torch']}; {result['date']}; "
             f"tokens: {result['tokens']})",
             "", "Per-replay median us of one CUDA graph of the whole piece; ratio = "
             "torch.compile / ours fused (> 1: ours faster).", "",
             "| piece | ours fused | ours unfused | eager | torch.compile | compile / fused |",
             "|---|---|---|---|---|---|"]
    for row in result["rows"]:
        ratio = (f"{row['compile'] / row['fused']:.2f}"
                 if "compile" in row and "fused" in row else "-")
        lines.append(f"| {row['piece']} | {cell(row, 'fused')} | {cell(row, 'unfused')} | "
                     f"{cell(row, 'eager')} | {cell(row, 'compile')} | {ratio} |")
    with open(os.path.join(args.out, "pieces.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
