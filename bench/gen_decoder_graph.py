#!/usr/bin/env python3
"""Generates an N-layer TP=2 MoE decoder graph in the llm dialect holding every
fusion chain per layer (Q/K norm, Gemma all-reduce + residual norms, gated
norm + FP8 quant, MoE routing) plus unrolled local expert MLPs, ~207 ops per
layer. Used to measure the fusion pipeline's compile time (bench/pipeline_time.sh).
"""
import argparse

H, HD, QH, KH, E, EXPERTS, FF = 2048, 128, 16, 4, 256, 36, 256


def layer(i, out):
    t = lambda s: f"tensor<?x{s}xbf16>"
    p = f"%l{i}_"
    qkv = (QH + 2 * KH) * HD
    out += [
        f"  {p}qkv = llm.matmul %h{i}, %qkv_w : ({t(H)}, tensor<{qkv}x{H}xbf16>) -> {t(qkv)}",
        f"  {p}q, {p}k, {p}v = llm.split {p}qkv {{dim = 1 : i64, sizes = array<i64: {QH*HD}, {KH*HD}, {KH*HD}>}} : {t(qkv)} -> {t(QH*HD)}, {t(KH*HD)}, {t(KH*HD)}",
        f"  {p}qh = llm.reshape {p}q : {t(QH*HD)} to {t(HD)}",
        f"  {p}kh = llm.reshape {p}k : {t(KH*HD)} to {t(HD)}",
        f"  {p}qn = llm.rms_norm {p}qh, %wq {{epsilon = 1.0e-06 : f32}} : ({t(HD)}, tensor<{HD}xbf16>) -> {t(HD)}",
        f"  {p}kn = llm.rms_norm {p}kh, %wk {{epsilon = 1.0e-06 : f32}} : ({t(HD)}, tensor<{HD}xbf16>) -> {t(HD)}",
        f"  {p}g = llm.rms_norm_gated {p}qn, {p}kn, %gw {{epsilon = 1.0e-06 : f32}} : ({t(HD)}, {t(HD)}, tensor<{HD}xf32>) -> {t(HD)}",
        f"  {p}gt = llm.reshape {p}g : {t(HD)} to {t(H)}",
        f"  {p}gq, {p}gs = llm.quant_fp8 {p}gt {{group_size = 128 : i64}} : ({t(H)}) -> (tensor<?x{H}xf8E4M3FN>, tensor<?x{H//128}xf32>)",
        f"  {p}gd = llm.cast {p}gq : tensor<?x{H}xf8E4M3FN> to {t(H)}",
        f"  {p}o = llm.matmul {p}gd, %o_w : ({t(H)}, tensor<{H}x{H}xbf16>) -> {t(H)}",
        f"  {p}oa = llm.all_reduce {p}o : {t(H)}",
        f"  {p}r1 = llm.add {p}oa, %r{i} : ({t(H)}, {t(H)}) -> {t(H)}",
        f"  {p}n1 = llm.rms_norm {p}r1, %ln1 {{epsilon = 1.0e-06 : f32}} : ({t(H)}, tensor<{H}xf32>) -> {t(H)}",
        f"  {p}lg = llm.matmul {p}n1, %router_w : ({t(H)}, tensor<{E}x{H}xbf16>) -> {t(E)}",
        f"  {p}lf = llm.cast {p}lg : {t(E)} to tensor<?x{E}xf32>",
        f"  {p}sc = llm.sigmoid {p}lf : tensor<?x{E}xf32>",
        f"  {p}bs = llm.add {p}sc, %router_b : (tensor<?x{E}xf32>, tensor<{E}xf32>) -> tensor<?x{E}xf32>",
        f"  {p}tw, {p}ti = llm.grouped_topk {p}sc, {p}bs {{n_group = 8 : i64, topk_group = 4 : i64, topk = 8 : i64, renormalize = true, routed_scaling_factor = 2.5 : f32}} : (tensor<?x{E}xf32>, tensor<?x{E}xf32>) -> (tensor<?x8xf32>, tensor<?x8xi32>)",
    ]
    # The routing weights scale the expert mix (a dense stand-in for the
    # gather/scatter of a real MoE), so the router is live.
    out += [
        f"  {p}mx = llm.matmul {p}tw, %mix_w : (tensor<?x8xf32>, tensor<{H}x8xf32>) -> tensor<?x{H}xf32>",
        f"  {p}mb = llm.cast {p}mx : tensor<?x{H}xf32> to {t(H)}",
    ]
    acc = f"{p}mb"
    for e in range(EXPERTS):
        x = f"{p}e{e}_"
        out += [
            f"  {x}gu = llm.matmul {p}n1, %gu_w : ({t(H)}, tensor<{2*FF}x{H}xbf16>) -> {t(2*FF)}",
            f"  {x}g, {x}u = llm.split {x}gu {{dim = 1 : i64, sizes = array<i64: {FF}, {FF}>}} : {t(2*FF)} -> {t(FF)}, {t(FF)}",
            f"  {x}a = llm.silu {x}g : {t(FF)}",
            f"  {x}m = llm.mul {x}a, {x}u : ({t(FF)}, {t(FF)}) -> {t(FF)}",
            f"  {x}d = llm.matmul {x}m, %down_w : ({t(FF)}, tensor<{H}x{FF}xbf16>) -> {t(H)}",
            f"  {x}s = llm.add {acc}, {x}d : ({t(H)}, {t(H)}) -> {t(H)}",
        ]
        acc = f"{x}s"
    out += [
        f"  {p}ma = llm.all_reduce {acc} : {t(H)}",
        f"  %r{i+1} = llm.add {p}ma, {p}r1 : ({t(H)}, {t(H)}) -> {t(H)}",
        f"  %h{i+1} = llm.rms_norm %r{i+1}, %ln2 {{epsilon = 1.0e-06 : f32}} : ({t(H)}, tensor<{H}xf32>) -> {t(H)}",
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=100)
    ap.add_argument("--functions", type=int, default=1,
                    help="split the layers over this many functions (pieces), "
                         "which the pipeline fuses in parallel")
    args = ap.parse_args()
    t = lambda s: f"tensor<?x{s}xbf16>"
    qkv = (QH + 2 * KH) * HD
    out = ["module attributes {llm.world_size = 2 : i64} {"]
    per = args.layers // args.functions
    for f in range(args.functions):
        name = "model" if args.functions == 1 else f"model{f}"
        out += [f"func.func @{name}(%h0: {t(H)}, %r0: {t(H)}, %qkv_w: tensor<{qkv}x{H}xbf16>, %wq: tensor<{HD}xbf16>,"
                f" %wk: tensor<{HD}xbf16>, %gw: tensor<{HD}xf32>, %o_w: tensor<{H}x{H}xbf16>, %g1: tensor<{H}xbf16>,"
                f" %router_w: tensor<{E}x{H}xbf16>, %router_b: tensor<{E}xf32>, %gu_w: tensor<{2*FF}x{H}xbf16>,"
                f" %down_w: tensor<{H}x{FF}xbf16>, %g2: tensor<{H}xbf16>, %mix_w: tensor<{H}x8xf32>) -> {t(H)} {{",
                "  %one = llm.constant dense<1.0> : tensor<f32>",
                f"  %g1f = llm.cast %g1 : tensor<{H}xbf16> to tensor<{H}xf32>",
                f"  %ln1 = llm.add %g1f, %one : (tensor<{H}xf32>, tensor<f32>) -> tensor<{H}xf32>",
                f"  %g2f = llm.cast %g2 : tensor<{H}xbf16> to tensor<{H}xf32>",
                f"  %ln2 = llm.add %g2f, %one : (tensor<{H}xf32>, tensor<f32>) -> tensor<{H}xf32>"]
        for i in range(per):
            layer(i, out)
        out += [f"  return %h{per} : {t(H)}", "}"]
    out += ["}"]
    print("\n".join(out))


if __name__ == "__main__":
    main()
