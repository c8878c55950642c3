#!/usr/bin/env python3
"""Runs each fused kernel of the benchmark once per case, outside any graph,
for Nsight Compute (bench/profile.sh): router at T=1 and 8192, gated norm +
FP8 quant at 16384, Q/K norm at 4096, add + RMSNorm at T=1 and 16384."""

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpu_bench  # noqa: E402

CASES = {
    "router_t1": lambda o: gpu_bench.chain_router(o, 1, 256, 8, 4),
    "router_t8192": lambda o: gpu_bench.chain_router(o, 8192, 256, 8, 4),
    "gated_t16384": lambda o: gpu_bench.chain_gated_quant(o, 16384),
    "qk_t4096": lambda o: gpu_bench.chain_qk_norm(o, 4096, False),
    "add_norm_t1": lambda o: gpu_bench.chain_add_rms_norm(o, 1, 4096),
    "add_norm_t16384": lambda o: gpu_bench.chain_add_rms_norm(o, 16384, 4096),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", required=True)
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    ours = gpu_bench.Ours(gpu_bench.load_lib(args.lib))
    for name, build in CASES.items():
        if args.only not in name:
            continue
        c = build(ours)
        a = c["make"]()
        torch.cuda.synchronize()
        torch.cuda.nvtx.range_push(name)
        c["fused"](a)
        torch.cuda.synchronize()
        torch.cuda.nvtx.range_pop()
        print(f"ran {name}", flush=True)


if __name__ == "__main__":
    main()
