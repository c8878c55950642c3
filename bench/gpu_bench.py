#!/usr/bin/env python3
"""GPU benchmark of the fused chains: ours (fused and unfused kernels),
PyTorch eager and torch.compile, timed in one process by one method.

Every variant runs inside a CUDA graph that calls it once per input set
(enough sets to overflow L2); the graph is replayed and timed with CUDA
events; a variant's time is the median over replays, per call. Achieved
bandwidth counts the fewest bytes the chain must move (each input read
once, each output written once) and is reported as a fraction of a
device-to-device copy measured in the same run; the empty-kernel launch
floor is measured the same way.

Writes bench.json and speedup.png into --out and prints a table.
"""

import argparse
import ctypes
import json
import math
import os
import statistics
import sys
import time

import torch

BF16 = torch.bfloat16
TYPE_CODE = {torch.float32: 0, torch.float16: 1, torch.bfloat16: 2}
EPS = 1e-6


def load_lib(path, prefix="llmf_"):
    lib = ctypes.CDLL(path)
    getattr(lib, prefix + "last_error").restype = ctypes.c_char_p
    return lib


class Ours:
    """ctypes calls on PyTorch's current stream (so graphs capture them):
    `name(...)` calls `<prefix>name` with tensors as their data pointers,
    floats as float, integers and flags as int64 (a C `int` parameter takes
    the same x86-64 register), the stream last; a nonzero return raises
    with `<prefix>last_error()`. The peer libraries use it too (prefix
    "peers_")."""

    def __init__(self, lib, prefix="llmf_"):
        self.lib, self.prefix = lib, prefix

    def __getattr__(self, name):
        fn = getattr(self.lib, self.prefix + name)

        def call(*args):
            conv = []
            for a in args:
                if isinstance(a, torch.Tensor):
                    conv.append(ctypes.c_void_p(a.data_ptr()))
                elif isinstance(a, float):
                    conv.append(ctypes.c_float(a))
                else:
                    conv.append(ctypes.c_int64(int(a)))
            conv.append(ctypes.c_void_p(torch.cuda.current_stream().cuda_stream))
            err = fn(*conv)
            if err != 0:
                last = getattr(self.lib, self.prefix + "last_error")()
                raise RuntimeError(f"{self.prefix}{name}: error {err}: {last}")

        return call


def graph_time_us(run, n_sets, replays):
    """Median microseconds per call of run(i) over graph replays."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for i in range(n_sets):
            run(i)
    torch.cuda.current_stream().wait_stream(side)
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for i in range(n_sets):
            run(i)
    graph.replay()
    torch.cuda.synchronize()
    times = []
    for _ in range(replays):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        graph.replay()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) * 1000.0 / n_sets)
    return statistics.median(times)


def sets_for(bytes_per_call, l2_bytes):
    return max(2, min(64, math.ceil(3 * l2_bytes / max(bytes_per_call, 1))))


# --- PyTorch formulations of the chains (what users run today) -----------------


def torch_add_rms_norm(x, r, w):
    s = x + r
    sf = s.float()
    y = sf * torch.rsqrt(sf.pow(2).mean(-1, keepdim=True) + EPS) * w.float()
    return y.to(x.dtype), s


def torch_qk_norm(qkv, wq, wk, hq, hk, d, gemma):
    t = qkv.shape[0]
    q = qkv[:, : hq * d].unflatten(-1, (hq, d)).float()
    k = qkv[:, hq * d : (hq + hk) * d].unflatten(-1, (hk, d)).float()
    wq = wq.float() + (1.0 if gemma else 0.0)
    wk = wk.float() + (1.0 if gemma else 0.0)
    qo = q * torch.rsqrt(q.pow(2).mean(-1, keepdim=True) + EPS) * wq
    ko = k * torch.rsqrt(k.pow(2).mean(-1, keepdim=True) + EPS) * wk
    return qo.to(qkv.dtype).reshape(t * hq, d), ko.to(qkv.dtype).reshape(t * hk, d)


def torch_gated_quant(x, z, w, tokens, heads, d, group):
    xf = x.float()
    y = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + EPS) * w.float()
    y = (y * torch.nn.functional.silu(z.float())).to(x.dtype)
    y = y.reshape(tokens, heads * d // group, group).float()
    scale = y.abs().amax(-1, keepdim=True).clamp(min=1e-10) / 448.0
    q = (y / scale).clamp(-448.0, 448.0).to(torch.float8_e4m3fn)
    return q.reshape(tokens, heads * d), scale.reshape(tokens, -1)


def torch_router(logits, bias, n_group, topk_group, topk, scale):
    scores = logits.float().sigmoid()
    biased = scores + bias
    t, e = biased.shape
    if topk_group < n_group:
        group_scores = biased.view(t, n_group, -1).topk(2, dim=-1).values.sum(-1)
        group_idx = group_scores.topk(topk_group, dim=-1).indices
        mask = torch.zeros_like(group_scores).scatter_(1, group_idx, 1.0)
        mask = mask.unsqueeze(-1).expand(t, n_group, e // n_group).reshape(t, e)
        biased = biased.masked_fill(mask == 0, float("-inf"))
    ids = biased.topk(topk, dim=-1).indices
    w = scores.gather(1, ids)
    w = w / (w.sum(-1, keepdim=True) + 1e-20)
    return w * scale, ids.to(torch.int32)


# --- chains --------------------------------------------------------------------


def chain_add_rms_norm(ours, t, d):
    def make():
        x = torch.randn(t, d, dtype=BF16, device="cuda")
        r = torch.randn(t, d, dtype=BF16, device="cuda")
        w = (torch.rand(d, device="cuda") + 0.5).to(BF16)
        y, ro, s = torch.empty_like(x), torch.empty_like(x), torch.empty_like(x)
        return dict(x=x, r=r, w=w, y=y, ro=ro, s=s)

    def fused(a):
        ours.add_rms_norm(a["x"], a["r"], a["w"], a["y"], a["ro"], t, d, 2, EPS, 0.0)

    def unfused(a):
        ours.add(a["x"], a["r"], a["s"], t * d, 2)
        ours.rms_norm(a["s"], a["w"], a["y"], t, d, 2, 2, EPS, 0.0)

    def ref(a):
        return torch_add_rms_norm(a["x"], a["r"], a["w"])

    def check(a):
        fused(a)
        y, s = ref(a)
        return {"max_abs_y": (a["y"].float() - y.float()).abs().max().item(),
                "max_abs_residual": (a["ro"].float() - s.float()).abs().max().item()}

    return dict(make=make, fused=fused, unfused=unfused, eager=torch_add_rms_norm,
                bytes=4 * t * d * 2 + d * 2, check=check, args=("x", "r", "w"))


def chain_qk_norm(ours, t, gemma, hq=32, hk=8, d=128):
    width = (hq + 2 * hk) * d
    bias = 1.0 if gemma else 0.0

    def make():
        qkv = torch.randn(t, width, dtype=BF16, device="cuda")
        wq = (torch.rand(d, device="cuda") * 0.5 + (0.0 if gemma else 0.75)).to(BF16)
        wk = (torch.rand(d, device="cuda") * 0.5 + (0.0 if gemma else 0.75)).to(BF16)
        qo = torch.empty(t * hq, d, dtype=BF16, device="cuda")
        ko = torch.empty(t * hk, d, dtype=BF16, device="cuda")
        return dict(qkv=qkv, wq=wq, wk=wk, qo=qo, ko=ko)

    def fused(a):
        ours.qk_norm(a["qkv"], a["wq"], a["wk"], a["qo"], a["ko"], t, hq, hk, d, 2, EPS, bias, 1)

    def unfused(a):
        ours.qk_norm(a["qkv"], a["wq"], a["wk"], a["qo"], a["ko"], t, hq, hk, d, 2, EPS, bias, 0)

    def ref(a):
        return torch_qk_norm(a["qkv"], a["wq"], a["wk"], hq, hk, d, gemma)

    def check(a):
        fused(a)
        qo, ko = ref(a)
        return {"max_abs_q": (a["qo"].float() - qo.float()).abs().max().item(),
                "max_abs_k": (a["ko"].float() - ko.float()).abs().max().item()}

    def eager(qkv, wq, wk):
        return torch_qk_norm(qkv, wq, wk, hq, hk, d, gemma)

    return dict(make=make, fused=fused, unfused=unfused, eager=eager,
                bytes=2 * t * (hq + hk) * d * 2 + 4 * d, check=check, args=("qkv", "wq", "wk"))


def chain_gated_quant(ours, t, heads=32, d=128, group=128):
    width = heads * d

    def make():
        x = torch.randn(t * heads, d, dtype=BF16, device="cuda")
        z = torch.randn(t * heads, d, dtype=BF16, device="cuda")
        w = torch.rand(d, device="cuda") + 0.5
        q = torch.empty(t, width, dtype=torch.uint8, device="cuda")
        s = torch.empty(t, width // group, dtype=torch.float32, device="cuda")
        y = torch.empty_like(x)
        return dict(x=x, z=z, w=w, q=q, s=s, y=y)

    def fused(a):
        ours.gated_quant(a["x"], a["z"], a["w"], a["q"], a["s"], t, heads, d, group, 2, 0, EPS, 1)

    def unfused(a):
        ours.rms_norm_gated(a["x"], a["z"], a["w"], a["y"], t * heads, d, 2, 0, EPS, 1)
        ours.quant_fp8(a["y"], a["q"], a["s"], t, width, group, 2)

    def ref(a):
        return torch_gated_quant(a["x"], a["z"], a["w"], t, heads, d, group)

    def check(a):
        fused(a)
        q, s = ref(a)
        ours_q = a["q"].view(torch.float8_e4m3fn).float() * a["s"].repeat_interleave(group, 1)
        ref_q = q.float() * s.repeat_interleave(group, 1)
        return {"max_rel_scale": ((a["s"] - s) / s).abs().max().item(),
                "max_abs_dequant": (ours_q - ref_q).abs().max().item()}

    def eager(x, z, w):
        return torch_gated_quant(x, z, w, x.shape[0] // heads, heads, d, group)

    return dict(make=make, fused=fused, unfused=unfused, eager=eager,
                bytes=2 * t * width * 2 + t * width + t * (width // group) * 4 + d * 4,
                check=check, args=("x", "z", "w"))


def chain_router(ours, t, experts, n_group, topk_group, topk=8, scale=2.5):
    def make():
        logits = (torch.randn(t, experts, device="cuda") * 1.5).to(BF16)
        bias = (torch.rand(experts, device="cuda") - 0.5) * 0.2
        w = torch.empty(t, topk, dtype=torch.float32, device="cuda")
        ids = torch.empty(t, topk, dtype=torch.int32, device="cuda")
        f = torch.empty(t, experts, dtype=torch.float32, device="cuda")
        s = torch.empty_like(f)
        b = torch.empty_like(f)
        return dict(logits=logits, bias=bias, w=w, ids=ids, f=f, s=s, b=b)

    def fused(a):
        ours.moe_router(a["logits"], 2, a["bias"], a["w"], a["ids"], t, experts, n_group,
                        topk_group, topk, 1, scale)

    def unfused(a):
        ours.cast(a["logits"], a["f"], t * experts, 2, 0)
        ours.sigmoid(a["f"], a["s"], t * experts)
        ours.add_bias(a["s"], a["bias"], a["b"], t, experts)
        ours.grouped_topk(a["s"], a["b"], a["w"], a["ids"], t, experts, n_group, topk_group,
                          topk, 1, scale)

    def ref(a):
        return torch_router(a["logits"], a["bias"], n_group, topk_group, topk, scale)

    def check(a):
        fused(a)
        w, ids = ref(a)
        same = (torch.sort(a["ids"], -1).values == torch.sort(ids, -1).values).all(-1)
        return {"tokens_same_experts": same.float().mean().item(),
                "max_abs_weight": (torch.sort(a["w"], -1).values -
                                   torch.sort(w, -1).values).abs().max().item()}

    def eager(logits, bias):
        return torch_router(logits, bias, n_group, topk_group, topk, scale)

    return dict(make=make, fused=fused, unfused=unfused, eager=eager,
                bytes=t * experts * 2 + experts * 4 + t * topk * 8, check=check,
                args=("logits", "bias"))


def measure_copy_gbps(replays):
    """The best of a device-to-device copy in a graph and outside one
    (bytes read plus bytes written)."""
    n = 1 << 30  # 2 GiB of bf16
    src = torch.randn(n, dtype=BF16, device="cuda")
    dst = torch.empty_like(src)
    in_graph = graph_time_us(lambda i: dst.copy_(src), 1, replays)
    times = []
    for _ in range(replays):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        dst.copy_(src)
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) * 1000.0)
    best = min(in_graph, statistics.median(times))
    del src, dst
    torch.cuda.empty_cache()
    return 2 * n * 2 / (best * 1e-6) / 1e9


def sweep_norm(ours, l2, replays):
    """Fused time of each launch shape: threads per row (block-per-row
    path) and a persistent grid (blocks per SM) for add + RMSNorm; rows per
    team and a persistent grid for Q/K and for the gated norm + quant."""
    def timed(c):
        n_sets = sets_for(c["bytes"], l2)
        sets = [c["make"]() for _ in range(n_sets)]
        us = graph_time_us(lambda i: c["fused"](sets[i]), n_sets, replays)
        del sets
        torch.cuda.empty_cache()
        return us

    for d in (4096, 7168):
        for t in (1, 32, 4096, 16384):
            cells = []
            for threads, bps in ((0, 0), (448, 0), (1024, 0), (0, 2), (0, 4)):
                ours.set_norm_tuning(threads, 0, bps, 0)
                us = timed(chain_add_rms_norm(ours, t, d))
                cells.append(f"{threads or 'auto'}/{bps or '-'}:{us:.2f}")
            print(f"add_rms_norm D={d} T={t} (threads/blocks per SM): " + "  ".join(cells),
                  flush=True)
    for t in (32, 4096, 16384):
        cells = []
        for rows, bps, bound in ((1, 0, 0), (2, 0, 0), (1, 4, 0), (1, 8, 0), (1, 0, 1)):
            ours.set_norm_tuning(0, rows, bps, bound)
            us = timed(chain_qk_norm(ours, t, False))
            cells.append(f"{rows}/{bps or '-'}{'/32regs' if bound else ''}:{us:.2f}")
        print(f"qk_norm T={t} (rows per team/blocks per SM): " + "  ".join(cells), flush=True)
    ours.set_norm_tuning(0, 0, 0, 0)
    for t in (32, 4096, 16384):
        cells = []
        for rows, bps in ((1, 0), (2, 0), (1, 4), (1, 8), (2, 4)):
            ours.set_gated_tuning(rows, bps)
            cells.append(f"{rows}/{bps or '-'}:{timed(chain_gated_quant(ours, t)):.2f}")
        print(f"gated_norm_quant_fp8 T={t} (rows per team/blocks per SM): " + "  ".join(cells),
              flush=True)
    ours.set_gated_tuning(0, 0)
    # Routing: a warp per token (32 registers or unbounded) against a block
    # per token, which the launcher takes up to 256 tokens.
    for model, e, g, tg in (("DeepSeek-V3", 256, 8, 4), ("Kimi-K2", 384, 1, 1),
                            ("GLM-4.5-Air", 128, 1, 1)):
        for t in (1, 128, 256, 512, 2048, 8192):
            cells = []
            for label, unbounded, block in (("warp", 0, 0), ("warp unbounded", 1, 0),
                                            ("block", 0, 1 << 30)):
                ours.set_routing_tuning(unbounded, block)
                cells.append(f"{label}:{timed(chain_router(ours, t, e, g, tg)):.2f}")
            print(f"moe_router {model} T={t}: " + "  ".join(cells), flush=True)
    ours.set_routing_tuning(0, -1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", required=True)
    ap.add_argument("--out", default=".")
    ap.add_argument("--replays", type=int, default=20)
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--quick", action="store_true", help="fewer shapes")
    ap.add_argument("--only", default="", help="chains whose name contains this")
    ap.add_argument("--sweep-norm", action="store_true",
                    help="time the norm and gated-quant kernels' launch shapes, then exit")
    args = ap.parse_args()
    ours = Ours(load_lib(args.lib))
    props = torch.cuda.get_device_properties(0)
    l2 = props.L2_cache_size
    device = f"{props.name}, {props.multi_processor_count} SMs, {l2 >> 20} MiB L2"
    print(f"device: {device}; torch {torch.__version__}", flush=True)
    copy_gbps = measure_copy_gbps(args.replays)
    floor_us = graph_time_us(lambda i: ours.empty(), 64, args.replays)
    print(f"device-to-device copy: {copy_gbps:.0f} GB/s; empty-kernel launch floor "
          f"(graph replay): {floor_us:.2f} us", flush=True)

    if args.sweep_norm:
        sweep_norm(ours, l2, args.replays)
        return

    t_norm = [1, 32, 512, 4096, 16384]
    t_router = [1, 8, 128, 512, 2048, 8192]
    if args.quick:
        t_norm, t_router = [1, 512, 16384], [1, 512, 8192]
    cases = []
    for d in (4096, 7168):
        for t in t_norm:
            cases.append((f"add_rms_norm D={d}", t, lambda t=t, d=d: chain_add_rms_norm(ours, t, d)))
    for gemma in (False, True):
        for t in t_norm:
            name = "qk_norm " + ("gemma" if gemma else "plain")
            cases.append((name, t, lambda t=t, g=gemma: chain_qk_norm(ours, t, g)))
    for t in t_norm:
        cases.append(("gated_norm_quant_fp8", t, lambda t=t: chain_gated_quant(ours, t)))
    for model, e, g, tg in (("DeepSeek-V3", 256, 8, 4), ("Kimi-K2", 384, 1, 1),
                            ("GLM-4.5-Air", 128, 1, 1)):
        for t in t_router:
            cases.append((f"moe_router {model}", t,
                          lambda t=t, e=e, g=g, tg=tg: chain_router(ours, t, e, g, tg)))

    cases = [c for c in cases if args.only in c[0]]
    compiled = {}
    rows = []
    started = time.time()
    for name, t, build in cases:
        c = build()
        n_sets = sets_for(c["bytes"], l2)
        sets = [c["make"]() for _ in range(n_sets)]
        row = {"chain": name, "tokens": t, "bytes": c["bytes"], "input_sets": n_sets}
        row["check"] = c["check"](sets[0])
        row["ours_fused_us"] = graph_time_us(lambda i: c["fused"](sets[i]), n_sets, args.replays)
        row["ours_unfused_us"] = graph_time_us(lambda i: c["unfused"](sets[i]), n_sets,
                                               args.replays)
        # Programmatic dependent launch: each kernel (the next call's too)
        # may start while its predecessor's last wave runs.
        ours.set_pdl(1)
        row["ours_fused_pdl_us"] = graph_time_us(lambda i: c["fused"](sets[i]), n_sets,
                                                 args.replays)
        row["ours_unfused_pdl_us"] = graph_time_us(lambda i: c["unfused"](sets[i]), n_sets,
                                                   args.replays)
        ours.set_pdl(0)
        eager = c["eager"]
        row["torch_eager_us"] = graph_time_us(lambda i: eager(*[sets[i][k] for k in c["args"]]),
                                              n_sets, args.replays)
        if not args.no_compile:
            key = name
            if key not in compiled:
                compiled[key] = torch.compile(eager, dynamic=True)
            fn = compiled[key]
            try:
                row["torch_compile_us"] = graph_time_us(
                    lambda i: fn(*[sets[i][k] for k in c["args"]]), n_sets, args.replays)
            except Exception as e:  # report, keep going
                row["torch_compile_error"] = str(e)[:200]
        row["ours_fused_gbps"] = c["bytes"] / (row["ours_fused_us"] * 1e-6) / 1e9
        row["ours_fused_copy_fraction"] = row["ours_fused_gbps"] / copy_gbps
        del sets
        if c["bytes"] >= 32 << 20:
            # A copy moving the chain's bytes in one launch, timed the same
            # way: the reference above is a 2 GiB copy, whose launch ramp
            # and tail are negligible; at tens of MB they are not.
            half = c["bytes"] // 2
            copies = [(torch.empty(half, dtype=torch.uint8, device="cuda"),
                       torch.empty(half, dtype=torch.uint8, device="cuda"))
                      for _ in range(n_sets)]
            row["same_size_copy_us"] = graph_time_us(
                lambda i: copies[i][1].copy_(copies[i][0]), n_sets, args.replays)
            row["ours_fused_vs_same_size_copy"] = row["same_size_copy_us"] / row["ours_fused_us"]
            del copies
        rows.append(row)
        torch.cuda.empty_cache()
        tc = row.get("torch_compile_us", float("nan"))
        print(f"{name:28s} T={t:<6d} fused {row['ours_fused_us']:8.2f} us  unfused "
              f"{row['ours_unfused_us']:8.2f}  pdl {row['ours_fused_pdl_us']:8.2f}/"
              f"{row['ours_unfused_pdl_us']:8.2f}  eager {row['torch_eager_us']:8.2f}  compile "
              f"{tc:8.2f}  {row['ours_fused_copy_fraction'] * 100:5.1f}% of copy  "
              + (f"(a same-size copy: {row['same_size_copy_us']:.2f} us)  "
                 if "same_size_copy_us" in row else "")
              + f"check {row['check']}  [{time.time() - started:.0f}s]", flush=True)
        result = {"device": device, "torch": torch.__version__, "date": time.strftime("%Y-%m-%d"),
                  "copy_gbps": copy_gbps, "launch_floor_us": floor_us, "rows": rows}
        with open(os.path.join(args.out, "bench.json"), "w") as f:
            json.dump(result, f, indent=1)
    plot(rows, os.path.join(args.out, "speedup.png"))


def plot(rows, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    chains = sorted({r["chain"] for r in rows})
    fig, ax = plt.subplots(figsize=(9, 5.5))
    for chain in chains:
        pts = [(r["tokens"], r.get("torch_compile_us", r["torch_eager_us"]) / r["ours_fused_us"])
               for r in rows if r["chain"] == chain]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=chain)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log", base=2)
    ax.axhline(1.0, color="gray", lw=0.8)
    ax.set_xlabel("tokens")
    ax.set_ylabel("speedup of our fused kernel over torch.compile")
    ax.legend(fontsize=7)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    sys.exit(main())
