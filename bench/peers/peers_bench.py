#!/usr/bin/env python3
"""The project's peer benchmark: our fused kernels against the kernels
vLLM, SGLang and TensorRT-LLM call, on the same chains and shapes, in one
process, by the method of bench/gpu_bench.py (whose graph_time_us, sets_for,
chain builders, PyTorch references, copy bandwidth and launch floor it
reuses, so every number is taken exactly as our own are).

  bash bench/peers/run.sh [options]        (builds both libraries, then runs this)

Peers (libpeers.so: peers.cu over FlashInfer 0.7.2.post1's sources, built
with FlashInfer's JIT flags; SGLang's Triton kernel through sglang_triton.py;
prepare.sh fetches both from PyPI):
  add + RMSNorm     FlashInfer fused_add_rmsnorm / gemma_fused_add_rmsnorm
                    (CUDA path, in place on copies of x and the residual)
  Q/K RMSNorm       FlashInfer rmsnorm on 3-D strided q/k views of qkv
                    (QKRMSNorm kernel, one launch for q, one for k); for
                    Gemma the same kernel and launch shape with weight_bias 1
                    (FlashInfer's CUDA API has no 3-D Gemma path), SGLang's
                    Triton fused Q/K Gemma kernel (its wrapper's reshape
                    copies included, and the kernel alone on contiguous q/k),
                    FlashInfer gemma_rmsnorm 2-D on contiguous q/k rows
  MoE router        TRT-LLM noAuxTc as flashinfer.fused_moe.fused_topk_deepseek
                    (default backend) runs it: bf16 logits + f32 bias, bf16
                    weights out; also f32 logits against our f32-logit router
The FP8 chains against FlashInfer's FP8 kernels: bench/fp8 (it imports this
module's harness). Every peer runs once on fresh inputs with poisoned
outputs and is compared with the PyTorch reference (max abs error printed),
then timed without and with programmatic dependent launch (FlashInfer's
Python API turns PDL on by default on Hopper). Writes peers.json and
peers.md into --out.
"""

import argparse
import json
import math
import os
import statistics
import sys
import time

import torch


def import_gpu_bench(root):
    path = os.path.join(root, "bench")
    if not os.path.isfile(os.path.join(path, "gpu_bench.py")):
        sys.exit(f"no bench/gpu_bench.py under {root}: run from the project's checkout root "
                 "or pass --project")
    sys.path.insert(0, path)
    import gpu_bench  # noqa: E402

    return gpu_bench


def Peers(path):
    """libpeers.so (every integer parameter of peers.cu is int64_t) through
    gpu_bench's ctypes wrapper: tensors as pointers, the stream last."""
    gb = import_gpu_bench(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))))
    return gb.Ours(gb.load_lib(path, "peers_"), "peers_")


def max_abs(a, b):
    return (a.float() - b.float()).abs().max().item()


def poison(*ts):
    for t in ts:
        if t.dtype in (torch.int32, torch.int64, torch.uint8):
            t.fill_(-1 if t.dtype != torch.uint8 else 0x7F)
        else:
            t.fill_(float("nan"))


class Bench:
    def __init__(self, gb, ours, peers, args):
        self.gb, self.ours, self.peers, self.args = gb, ours, peers, args
        self.BF16, self.EPS = gb.BF16, gb.EPS
        self.sgl = None
        if not args.no_triton:
            try:
                sys.path.insert(0, args.triton_dir or os.path.dirname(os.path.abspath(__file__)))
                import sglang_triton

                self.sgl = sglang_triton
            except Exception as e:  # report, keep going without the Triton peer
                print(f"SGLang Triton peer unavailable: {e}", flush=True)

    # --- chains: ours (from gpu_bench), the peers, the reference ------------------

    def add_rms_norm(self, t, d, gemma):
        gb, ours, peers, EPS, BF16 = self.gb, self.ours, self.peers, self.EPS, self.BF16
        if not gemma:
            c = gb.chain_add_rms_norm(ours, t, d)
            ref = gb.torch_add_rms_norm
        else:
            # gpu_bench has the plain chain only; the Gemma one is the same
            # with weight_bias = 1 and weights around 0, as its Gemma Q/K.
            def ref(x, r, w):
                s = x + r
                sf = s.float()
                y = sf * torch.rsqrt(sf.pow(2).mean(-1, keepdim=True) + EPS) * (w.float() + 1.0)
                return y.to(x.dtype), s

            def make():
                x = torch.randn(t, d, dtype=BF16, device="cuda")
                r = torch.randn(t, d, dtype=BF16, device="cuda")
                w = (torch.rand(d, device="cuda") * 0.5).to(BF16)
                return dict(x=x, r=r, w=w, y=torch.empty_like(x), ro=torch.empty_like(x))

            def fused(a):
                ours.add_rms_norm(a["x"], a["r"], a["w"], a["y"], a["ro"], t, d, 2, EPS, 1.0)

            def check(a):
                poison(a["y"], a["ro"])
                fused(a)
                y, s = ref(a["x"], a["r"], a["w"])
                return {"max_abs_y": max_abs(a["y"], y), "max_abs_residual": max_abs(a["ro"], s)}

            c = dict(make=make, fused=fused, check=check, eager=ref,
                     bytes=4 * t * d * 2 + d * 2, args=("x", "r", "w"))

        def extend(a):  # the peer works in place: its own copies of x and r
            a["px"], a["pr"] = a["x"].clone(), a["r"].clone()

        def run(a, pdl):
            peers.fused_add_rmsnorm(a["px"], a["pr"], a["w"], t, d, EPS, int(gemma), pdl)

        def check(a):
            a["px"].copy_(a["x"])
            a["pr"].copy_(a["r"])
            run(a, 0)
            y, s = ref(a["x"], a["r"], a["w"])
            return {"max_abs_y": max_abs(a["px"], y), "max_abs_residual": max_abs(a["pr"], s)}

        name = ("flashinfer gemma_fused_add_rmsnorm" if gemma else
                "flashinfer fused_add_rmsnorm") + " (in place)"
        c["peers"] = [dict(name=name, extend=extend, run=run, check=check, pdl=True)]
        c["compile_eager"] = ref if gemma else gb.torch_add_rms_norm
        return c

    def qk_norm(self, t, gemma, hq=32, hk=8, d=128):
        gb, ours, peers, EPS, BF16 = self.gb, self.ours, self.peers, self.EPS, self.BF16
        c = gb.chain_qk_norm(ours, t, gemma, hq, hk, d)
        width = (hq + 2 * hk) * d
        bias = 1.0 if gemma else 0.0

        def ref(a):
            return gb.torch_qk_norm(a["qkv"], a["wq"], a["wk"], hq, hk, d, gemma)

        def extend(a):
            a["q2"] = a["qkv"][:, : hq * d]  # strided views, no copy
            a["k2"] = a["qkv"][:, hq * d: (hq + hk) * d]
            a["pqo"] = torch.empty(t * hq, d, dtype=BF16, device="cuda")
            a["pko"] = torch.empty(t * hk, d, dtype=BF16, device="cuda")

        def extend_contig(a):  # the layout row-stride kernels can address
            extend(a)
            a["qc"] = a["q2"].reshape(t * hq, d).contiguous()
            a["kc"] = a["k2"].reshape(t * hk, d).contiguous()

        def checker(run):
            def check(a):
                poison(a["pqo"], a["pko"])
                run(a, 0)
                qo, ko = ref(a)
                return {"max_abs_q": max_abs(a["pqo"], qo), "max_abs_k": max_abs(a["pko"], ko)}

            return check

        def fi_3d(a, pdl):
            peers.qk_rmsnorm(a["q2"], a["wq"], a["pqo"], t, hq, d, width, d, hq * d, d, EPS, bias,
                             pdl)
            peers.qk_rmsnorm(a["k2"], a["wk"], a["pko"], t, hk, d, width, d, hk * d, d, EPS, bias,
                             pdl)

        name = ("flashinfer QKRMSNorm kernel, weight_bias 1 (3-D strided q, k: 2 launches)"
                if gemma else "flashinfer rmsnorm 3-D = QKRMSNorm (strided q, k: 2 launches)")
        c["peers"] = [dict(name=name, extend=extend, run=fi_3d, check=checker(fi_3d), pdl=True)]
        if gemma:
            def fi_2d(a, pdl):
                peers.rmsnorm(a["qc"], a["wq"], a["pqo"], t * hq, d, d, d, EPS, 1, pdl)
                peers.rmsnorm(a["kc"], a["wk"], a["pko"], t * hk, d, d, d, EPS, 1, pdl)

            c["peers"].append(dict(
                name="flashinfer gemma_rmsnorm 2-D, contiguous q/k rows (2 launches, copies untimed)",
                extend=extend_contig, run=fi_2d, check=checker(fi_2d), pdl=True))
            if self.sgl is not None:
                sgl = self.sgl

                def sgl_shipped(a, pdl):
                    sgl.fused_qk_gemma_rmsnorm_as_shipped(a["q2"], a["k2"], a["wq"], a["wk"], EPS,
                                                          d, a["pqo"], a["pko"])

                def sgl_kernel(a, pdl):
                    sgl.launch_kernel(a["qc"], a["kc"], a["pqo"], a["pko"], a["wq"], a["wk"], EPS,
                                      d)

                c["peers"].append(dict(
                    name="sglang triton fused_qk_gemma_rmsnorm as shipped (reshape copies + 1 launch)",
                    extend=extend, run=sgl_shipped, check=checker(sgl_shipped), pdl=False))
                c["peers"].append(dict(
                    name="sglang triton kernel alone, contiguous q/k (copies untimed)",
                    extend=extend_contig, run=sgl_kernel, check=checker(sgl_kernel), pdl=False))
        c["compile_eager"] = c["eager"]
        return c

    def router(self, t, e, g, tg, f32_logits=False, topk=8, scale=2.5):
        gb, ours, peers = self.gb, self.ours, self.peers
        c = gb.chain_router(ours, t, e, g, tg, topk, scale)
        ltype = 0 if f32_logits else 2
        if f32_logits:
            base_make = c["make"]

            def make():
                a = base_make()
                a["logits"] = a["logits"].float()
                return a

            def fused(a):
                ours.moe_router(a["logits"], 0, a["bias"], a["w"], a["ids"], t, e, g, tg, topk, 1,
                                scale)

            def check(a):
                poison(a["w"], a["ids"])
                fused(a)
                return route_check(a["w"], a["ids"], a)

            c.update(make=make, fused=fused, check=check,
                     bytes=t * e * 4 + e * 4 + t * topk * 8)

        def ref(a):
            return gb.torch_router(a["logits"], a["bias"], g, tg, topk, scale)

        def route_check(w, ids, a):
            rw, rids = ref(a)
            ids = ids.long()
            same = (torch.sort(ids, -1).values == torch.sort(rids.long(), -1).values).all(-1)
            # weights matched by expert id (the peer's order may differ)
            order, rorder = torch.argsort(ids, -1), torch.argsort(rids.long(), -1)
            wi, rwi = w.float().gather(1, order), rw.float().gather(1, rorder)
            ok = same.unsqueeze(-1).expand_as(wi)
            err = (wi - rwi).abs()[ok]
            return {"tokens_same_experts": same.float().mean().item(),
                    "max_abs_weight": err.max().item() if err.numel() else float("nan")}

        vdtype = torch.float32 if f32_logits else self.BF16

        def extend(a):
            a["pw"] = torch.empty(t, topk, dtype=vdtype, device="cuda")
            a["pids"] = torch.empty(t, topk, dtype=torch.int32, device="cuda")

        def run(a, pdl):
            peers.noaux_tc(a["logits"], ltype, a["bias"], a["pw"], a["pids"], t, e, g, tg, topk,
                           scale, pdl)

        def pcheck(a):
            poison(a["pw"], a["pids"])
            run(a, 0)
            return route_check(a["pw"], a["pids"], a)

        name = ("trtllm noAuxTc (flashinfer fused_topk_deepseek), " +
                ("f32 logits, f32 weights" if f32_logits else "bf16 logits, bf16 weights"))
        c["peers"] = [dict(name=name, extend=extend, run=run, check=pcheck, pdl=True)]
        c["compile_eager"] = None if f32_logits else c["eager"]
        return c

    # --- one case: every variant timed the same way -------------------------------

    def run_case(self, name, t, c, copy_gbps, compiled, started):
        gb, ours, args = self.gb, self.ours, self.args
        l2 = torch.cuda.get_device_properties(0).L2_cache_size
        n_sets = gb.sets_for(c["bytes"], l2)
        sets = [c["make"]() for _ in range(n_sets)]
        for p in c["peers"]:
            for a in sets:
                p["extend"](a)
        row = {"chain": name, "tokens": t, "bytes": c["bytes"], "input_sets": n_sets,
               "variants": []}

        def timed(fn):
            return gb.graph_time_us(lambda i: fn(sets[i]), n_sets, args.replays)

        def gbps(us):
            return c["bytes"] / (us * 1e-6) / 1e9

        ours_v = {"name": c.get("ours_label", "ours fused"), "check": c["check"](sets[0])}
        ours_v["us"] = timed(c["fused"])
        ours.set_pdl(1)
        ours_v["pdl_us"] = timed(c["fused"])
        ours.set_pdl(0)
        row["variants"].append(ours_v)
        for p in c["peers"]:
            v = {"name": p["name"]}
            try:
                v["check"] = p["check"](sets[0])
                v["us"] = timed(lambda a: p["run"](a, 0))
                if p["pdl"]:
                    v["pdl_us"] = timed(lambda a: p["run"](a, 1))
            except Exception as e:  # report, keep going
                v["error"] = str(e)[:300]
            row["variants"].append(v)
        eager = c.get("compile_eager")
        over_budget = time.time() - started > args.compile_budget_s
        if eager is not None and not args.no_compile and not over_budget:
            v = {"name": "torch.compile (dynamic=True)"}
            try:
                if name not in compiled:
                    compiled[name] = torch.compile(eager, dynamic=True)
                fn = compiled[name]
                v["us"] = timed(lambda a: fn(*[a[k] for k in c["args"]]))
            except Exception as e:
                v["error"] = str(e)[:300]
            row["variants"].append(v)
        elif eager is not None and not args.no_compile:
            row["compile_skipped"] = "over --compile-budget-s"
        base, base_pdl = ours_v["us"], ours_v["pdl_us"]
        for v in row["variants"]:
            if "us" in v:
                v["ratio_vs_ours"] = v["us"] / base
                v["copy_fraction"] = gbps(v["us"]) / copy_gbps
            if "pdl_us" in v:
                v["pdl_ratio_vs_ours_pdl"] = v["pdl_us"] / base_pdl
        del sets
        torch.cuda.empty_cache()
        return row


def fmt(x, spec):
    if isinstance(x, (int, float)) and not math.isnan(x):
        return format(x, spec)
    width = spec.split(".")[0]
    return "-".rjust(int(width) if width.isdigit() else 1)


def short_check(chk):
    if not chk:
        return ""
    return " ".join(f"{k}={v:.3g}" for k, v in chk.items())


def print_row(row, elapsed):
    print(f"{row['chain']}  T={row['tokens']}  ({row['bytes'] / 1e6:.2f} MB, "
          f"{row['input_sets']} sets)  [{elapsed:.0f}s]", flush=True)
    for v in row["variants"]:
        if "error" in v:
            print(f"    {v['name'][:86]:86s}  ERROR {v['error']}", flush=True)
            continue
        print(f"    {v['name'][:86]:86s} {fmt(v.get('us'), '9.2f')} us  pdl "
              f"{fmt(v.get('pdl_us'), '8.2f')}  x{fmt(v.get('ratio_vs_ours'), '5.2f')}  pdl x"
              f"{fmt(v.get('pdl_ratio_vs_ours_pdl'), '5.2f')}  "
              f"{fmt(100 * v['copy_fraction'] if 'copy_fraction' in v else None, '5.1f')}% copy"
              f"  {short_check(v.get('check'))}", flush=True)
    if "compile_skipped" in row:
        print(f"    torch.compile skipped: {row['compile_skipped']}", flush=True)


def markdown(result):
    lines = [f"# Peers benchmark ({result['device']}; torch {result['torch']}; {result['date']})",
             "",
             f"Copy {result['copy_gbps']:.0f} GB/s; empty-kernel floor "
             f"{result['launch_floor_us']:.2f} us (graph). Median us per call over graph "
             "replays; ratio = variant / ours (> 1: ours faster); PDL ratio against ours "
             "with PDL.", "",
             "| chain | T | variant | us | PDL us | ratio | PDL ratio | % copy | check |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in result["rows"]:
        for i, v in enumerate(row["variants"]):
            head = f"| {row['chain']} | {row['tokens']} " if i == 0 else "| | "
            if "error" in v:
                lines.append(head + f"| {v['name']} | error: {v['error'][:80]} | | | | | |")
                continue
            frac = v.get("copy_fraction")
            lines.append(head + f"| {v['name']} | {fmt(v.get('us'), '.2f')} | "
                         f"{fmt(v.get('pdl_us'), '.2f')} | {fmt(v.get('ratio_vs_ours'), '.2f')} | "
                         f"{fmt(v.get('pdl_ratio_vs_ours_pdl'), '.2f')} | "
                         f"{fmt(100 * frac if frac is not None else None, '.1f')} | "
                         f"{short_check(v.get('check'))} |")
    return "\n".join(lines) + "\n"


def plot(result, path):
    """peer / ours against T, a line per chain and peer (peers.png); skipped
    where matplotlib is absent."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    series = {}
    for row in result["rows"]:
        for v in row["variants"][1:]:
            if "ratio_vs_ours" in v:
                key = f"{row['chain']}: {v['name'][:40]}"
                series.setdefault(key, []).append((row["tokens"], v["ratio_vs_ours"]))
    if not series:
        return
    fig, ax = plt.subplots(figsize=(11, 7))
    for key, pts in sorted(series.items()):
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=key)
    ax.set_xscale("log", base=2)
    ax.axhline(1.0, color="gray", lw=0.8)
    ax.set_xlabel("tokens")
    ax.set_ylabel("peer time / ours (> 1: ours faster)")
    ax.set_title(f"{result['device']}, {result['date']}")
    ax.legend(fontsize=5, ncol=2)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lib", required=True, help="the project's libllmf_bench.so")
    ap.add_argument("--peers", required=True, help="libpeers.so")
    ap.add_argument("--project",
                    default=os.path.dirname(os.path.dirname(os.path.dirname(
                        os.path.abspath(__file__)))),
                    help="the project's checkout root (default: this file's)")
    ap.add_argument("--out", default=".")
    ap.add_argument("--replays", type=int, default=20)
    ap.add_argument("--no-compile", action="store_true", help="skip torch.compile")
    ap.add_argument("--compile-budget-s", type=float, default=240.0,
                    help="skip torch.compile for cases that start after this many seconds")
    ap.add_argument("--no-triton", action="store_true", help="skip the SGLang Triton peer")
    ap.add_argument("--triton-dir", default="",
                    help="folder of sglang_triton.py (default: this file's)")
    ap.add_argument("--no-router-f32", action="store_true", help="skip the f32-logit routers")
    ap.add_argument("--quick", action="store_true", help="fewer shapes")
    ap.add_argument("--t-norm", default="", help="token counts of the norm chains, e.g. 1,512")
    ap.add_argument("--t-router", default="", help="token counts of the routers, e.g. 1,8192")
    ap.add_argument("--only", default="", help="chains whose name contains this")
    args = ap.parse_args()

    gb = import_gpu_bench(os.path.abspath(args.project))
    ours = gb.Ours(gb.load_lib(args.lib))
    bench = Bench(gb, ours, Peers(args.peers), args)
    os.makedirs(args.out, exist_ok=True)
    props = torch.cuda.get_device_properties(0)
    device = f"{props.name}, {props.multi_processor_count} SMs, {props.L2_cache_size >> 20} MiB L2"
    print(f"device: {device}; torch {torch.__version__}", flush=True)
    copy_gbps = gb.measure_copy_gbps(args.replays)
    floor_us = gb.graph_time_us(lambda i: ours.empty(), 64, args.replays)
    print(f"device-to-device copy: {copy_gbps:.0f} GB/s; empty-kernel launch floor "
          f"(graph replay): {floor_us:.2f} us", flush=True)

    t_norm = [1, 32, 512, 4096, 16384]
    t_router = [1, 8, 128, 512, 2048, 8192]
    if args.quick:
        t_norm, t_router = [1, 512, 16384], [1, 512, 8192]
    if args.t_norm:
        t_norm = [int(x) for x in args.t_norm.split(",")]
    if args.t_router:
        t_router = [int(x) for x in args.t_router.split(",")]
    cases = []
    for gemma in (False, True):
        for d in (4096, 7168):
            for t in t_norm:
                cases.append((f"add_rms_norm{' gemma' if gemma else ''} D={d}", t,
                              lambda t=t, d=d, g=gemma: bench.add_rms_norm(t, d, g)))
    for gemma in (False, True):
        for t in t_norm:
            cases.append(("qk_norm " + ("gemma" if gemma else "plain"), t,
                          lambda t=t, g=gemma: bench.qk_norm(t, g)))
    models = (("DeepSeek-V3", 256, 8, 4), ("Kimi-K2", 384, 1, 1), ("GLM-4.5-Air", 128, 1, 1))
    for f32 in ((False,) if args.no_router_f32 else (False, True)):
        for model, e, g, tg in models:
            for t in t_router:
                cases.append((f"moe_router {model}{' f32 logits' if f32 else ''}", t,
                              lambda t=t, e=e, g=g, tg=tg, f=f32: bench.router(t, e, g, tg, f)))
    cases = [c for c in cases if args.only in c[0]]

    compiled, rows = {}, []
    result = {"device": device, "torch": torch.__version__, "date": time.strftime("%Y-%m-%d"),
              "copy_gbps": copy_gbps, "launch_floor_us": floor_us, "replays": args.replays,
              "rows": rows}
    print("per variant: median us, with PDL, x = variant / ours fused (> 1: ours faster), "
          "pdl x = against ours with PDL, % of the copy rate for the chain's minimum bytes, "
          "check = max abs error against the PyTorch reference", flush=True)
    started = time.time()
    for name, t, build in cases:
        try:
            row = bench.run_case(name, t, build(), copy_gbps, compiled, started)
        except Exception as e:  # one broken case must not lose the others
            row = {"chain": name, "tokens": t, "bytes": 0, "input_sets": 0,
                   "variants": [{"name": "case", "error": str(e)[:300]}]}
            torch.cuda.empty_cache()
        rows.append(row)
        print_row(row, time.time() - started)
        with open(os.path.join(args.out, "peers.json"), "w") as f:
            json.dump(result, f, indent=1)
    md = markdown(result)
    with open(os.path.join(args.out, "peers.md"), "w") as f:
        f.write(md)
    plot(result, os.path.join(args.out, "peers.png"))
    print()
    print(md, flush=True)
    print(f"total {time.time() - started:.0f}s", flush=True)


if __name__ == "__main__":
    sys.exit(main())
