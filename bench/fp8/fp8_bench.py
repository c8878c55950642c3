#!/usr/bin/env python3
"""The FP8 serving chains, side by side: our one-launch fused kernels against
FlashInfer's fused kernels and torch.compile of the PyTorch reference, in one
process, by the method of bench/gpu_bench.py (CUDA graphs, inputs rotated
beyond L2, medians, same-run copy rate) through the project's peer
benchmark (bench/peers/peers_bench.py: its Bench.run_case, table and checks).

  add + RMSNorm + FP8 1x128  ours fused_add_rms_norm_quant_fp8 | FlashInfer
                             FusedAddRMSNormFP8BlockQuant (residual in place,
                             also writes the bf16 norm; column-major scales)
  RMSNorm + static FP8       ours fused_rms_norm_quant_fp8_static | FlashInfer
                             RMSNormQuant
  add + RMSNorm + static FP8 ours fused_add_rms_norm_quant_fp8_static |
                             FlashInfer FusedAddRMSNormQuant (residual in place)
  SiLU-and-mul + FP8 1x128   ours fused_silu_mul_quant_fp8 | torch.compile
                             (FlashInfer 0.7.2 has no such fused kernel)

Run by bench/fp8/run.sh; writes fp8.json and fp8.md into --out.
"""

import argparse
import json
import os
import sys
import time

import torch


def load_harness(project):
    sys.path.insert(0, os.path.join(project, "bench", "peers"))
    import peers_bench  # noqa: E402

    return peers_bench


GROUP = 128


def dequant(q8, scale, group):
    deq = q8.view(torch.float8_e4m3fn).float()
    if scale.numel() == 1:
        return deq * scale.reshape(())
    return deq * scale.float().repeat_interleave(group, 1)


def group_quant(y, group):
    """The spec's dynamic quantization in PyTorch (the reference)."""
    rows, width = y.shape
    yb = y.float().reshape(rows, width // group, group)
    scale = yb.abs().amax(-1, keepdim=True).clamp(min=1e-10) / 448.0
    q = (yb / scale).clamp(-448.0, 448.0).to(torch.float8_e4m3fn)
    return q.reshape(rows, width), scale.reshape(rows, width // group)


class Fp8Cases:
    def __init__(self, harness, gb, ours, peers, peers_fp8):
        self.h, self.gb, self.ours, self.peers, self.pf = harness, gb, ours, peers, peers_fp8
        self.EPS, self.BF16 = gb.EPS, gb.BF16

    def _rms(self, s, w):
        sf = s.float()
        return (sf * torch.rsqrt(sf.pow(2).mean(-1, keepdim=True) + self.EPS) * w.float()).to(s.dtype)

    def norm_quant(self, t, d, add, static):
        """(add +) RMSNorm + FP8, group 128 or static."""
        ours, EPS, BF16, h = self.ours, self.EPS, self.BF16, self.h
        rms = self._rms

        def ref(x, r, w, scale):
            s = x + r if add else x
            y = rms(s, w)
            if static:
                q = (y.float() / scale).clamp(-448.0, 448.0).to(torch.float8_e4m3fn)
                return q, scale, s
            q, sc = group_quant(y, GROUP)
            return q, sc, s

        def make():
            a = dict(x=torch.randn(t, d, dtype=BF16, device="cuda"),
                     r=torch.randn(t, d, dtype=BF16, device="cuda"),
                     w=(torch.rand(d, device="cuda") + 0.5).to(BF16),
                     scale=torch.full((1,), 0.02, dtype=torch.float32, device="cuda"),
                     q=torch.empty(t, d, dtype=torch.uint8, device="cuda"),
                     s=torch.empty(t, d // GROUP, dtype=torch.float32, device="cuda"))
            a["ro"] = torch.empty_like(a["x"])
            return a

        def fused(a):
            ours.quant_chain(1 if add else 0, a["x"], a["r"] if add else 0, a["w"],
                             a["ro"] if add else 0, a["q"], 0 if static else a["s"],
                             a["scale"] if static else 0, t, d, 0 if static else GROUP, 2, EPS,
                             0.0, 0)

        def compare(q8, sc, ro, a):
            rq, rsc, rs = ref(a["x"], a["r"], a["w"], a["scale"])
            out = {"max_abs_dequant": (dequant(q8, sc, GROUP) -
                                       dequant(rq.view(torch.uint8), rsc, GROUP)).abs().max().item()}
            if add:
                out["max_abs_residual"] = h.max_abs(ro, rs)
            return out

        def check(a):
            h.poison(a["q"], a["s"], a["ro"])
            fused(a)
            return compare(a["q"], a["scale"] if static else a["s"], a["ro"], a)

        def extend(a):
            a["px"], a["pr"] = a["x"].clone(), a["r"].clone()
            a["pq"] = torch.empty(t, d, dtype=torch.uint8, device="cuda")
            a["pscale"] = torch.empty(d // GROUP, (t + 3) // 4 * 4, dtype=torch.float32,
                                      device="cuda")
            a["pnormed"] = torch.empty(t, d, dtype=BF16, device="cuda")

        def run(a, pdl):
            if static and add:
                self.pf.fp8_fused_add_rmsnorm_quant(a["px"], a["pr"], a["w"], a["pq"], a["scale"], t,
                                                d, EPS, pdl)
            elif static:
                self.pf.fp8_rmsnorm_quant(a["x"], a["w"], a["pq"], a["scale"], t, d, EPS, pdl)
            else:
                self.peers.fused_add_rmsnorm_fp8_block_quant(a["px"], a["pr"], a["w"], a["pq"],
                                                             a["pscale"], a["pnormed"], t, d,
                                                             EPS, pdl)

        def pcheck(a):
            a["px"].copy_(a["x"])
            a["pr"].copy_(a["r"])
            run(a, 0)
            sc = a["scale"] if static else a["pscale"].t()[:t]
            return compare(a["pq"], sc, a["pr"], a)

        q_bytes = t * d + (0 if static else t * (d // GROUP) * 4)
        c = dict(make=make, fused=fused, check=check, args=("x", "r", "w", "scale"),
                 bytes=(2 if add else 1) * t * d * 2 + (t * d * 2 if add else 0) + q_bytes + d * 2)
        c["compile_eager"] = ref
        name = ("flashinfer FusedAddRMSNormQuant (residual in place)" if static and add else
                "flashinfer RMSNormQuant" if static else
                "flashinfer FusedAddRMSNormFP8BlockQuant (residual in place, + bf16 norm)")
        if add or static:
            c["peers"] = [dict(name=name, extend=extend, run=run, check=pcheck, pdl=True)]
        else:
            c["peers"] = []
        if not static:
            # Ours writing FlashInfer's column-major scales (scale_col_major).
            pad = (t + 3) // 4 * 4

            def cextend(a):
                a["cs"] = torch.empty(d // GROUP, pad, dtype=torch.float32, device="cuda")

            def crun(a, pdl):
                ours.quant_chain(1 if add else 0, a["x"], a["r"] if add else 0, a["w"],
                                 a["ro"] if add else 0, a["q"], a["cs"], 0, t, d, GROUP, 2, EPS,
                                 0.0, pad)

            def ccheck(a):
                h.poison(a["q"], a["cs"], a["ro"])
                crun(a, 0)
                return compare(a["q"], a["cs"].t()[:t], a["ro"], a)

            c["peers"].append(dict(name="ours: column-major scales", extend=cextend, run=crun,
                                   check=ccheck, pdl=False))
        c["ours_label"] = "ours: one launch"
        return c

    def silu_mul_quant(self, t, d):
        ours, BF16, h = self.ours, self.BF16, self.h

        def ref(g, u):
            y = (torch.nn.functional.silu(g) * u)
            return group_quant(y, GROUP)

        def make():
            return dict(g=torch.randn(t, d, dtype=BF16, device="cuda"),
                        u=torch.randn(t, d, dtype=BF16, device="cuda"),
                        q=torch.empty(t, d, dtype=torch.uint8, device="cuda"),
                        s=torch.empty(t, d // GROUP, dtype=torch.float32, device="cuda"))

        def fused(a):
            ours.quant_chain(2, a["g"], a["u"], 0, 0, a["q"], a["s"], 0, t, d, GROUP, 2, 0.0, 0.0, 0)

        def check(a):
            h.poison(a["q"], a["s"])
            fused(a)
            rq, rs = ref(a["g"], a["u"])
            return {"max_abs_dequant": (dequant(a["q"], a["s"], GROUP) -
                                        dequant(rq.view(torch.uint8), rs, GROUP)).abs().max().item()}

        c = dict(make=make, fused=fused, check=check, args=("g", "u"),
                 bytes=2 * t * d * 2 + t * d + t * (d // GROUP) * 4)
        c["compile_eager"] = ref
        c["peers"] = []
        c["ours_label"] = "ours: one launch"
        return c


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lib", required=True)
    ap.add_argument("--peers", required=True)
    ap.add_argument("--peers-fp8", required=True)
    ap.add_argument("--project", default=os.getcwd())
    ap.add_argument("--out", default=".")
    ap.add_argument("--replays", type=int, default=20)
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--compile-budget-s", type=float, default=300.0)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--tokens", default="")
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    args.no_triton = True
    args.triton_dir = ""

    h = load_harness(os.path.abspath(args.project))
    gb = h.import_gpu_bench(os.path.abspath(args.project))
    ours = gb.Ours(gb.load_lib(args.lib))
    bench = h.Bench(gb, ours, h.Peers(args.peers), args)
    # libpeers_fp8.so exports peers_fp8_* and its own peers_last_error: the
    # harness's ctypes wrapper serves it ("fp8_" names).
    cases_of = Fp8Cases(h, gb, ours, bench.peers, h.Peers(args.peers_fp8))
    os.makedirs(args.out, exist_ok=True)
    props = torch.cuda.get_device_properties(0)
    device = f"{props.name}, {props.multi_processor_count} SMs, {props.L2_cache_size >> 20} MiB L2"
    copy_gbps = gb.measure_copy_gbps(args.replays)
    floor_us = gb.graph_time_us(lambda i: ours.empty(), 64, args.replays)
    print(f"device: {device}; copy {copy_gbps:.0f} GB/s; launch floor {floor_us:.2f} us",
          flush=True)
    tokens = [1, 16, 128, 1024, 4096, 16384]
    if args.quick:
        tokens = [1, 1024, 16384]
    if args.tokens:
        tokens = [int(x) for x in args.tokens.split(",")]
    cases = []
    for d in (4096, 7168):
        for t in tokens:
            cases.append((f"add_rms_norm_fp8_block128 D={d}", t,
                          lambda t=t, d=d: cases_of.norm_quant(t, d, True, False)))
            cases.append((f"rms_norm_fp8_static D={d}", t,
                          lambda t=t, d=d: cases_of.norm_quant(t, d, False, True)))
            cases.append((f"add_rms_norm_fp8_static D={d}", t,
                          lambda t=t, d=d: cases_of.norm_quant(t, d, True, True)))
            cases.append((f"silu_mul_fp8_block128 I={2 * d}", t,
                          lambda t=t, d=d: cases_of.silu_mul_quant(t, 2 * d)))
    cases = [c for c in cases if args.only in c[0]]
    compiled, rows = {}, []
    result = {"device": device, "torch": torch.__version__, "date": time.strftime("%Y-%m-%d"),
              "copy_gbps": copy_gbps, "launch_floor_us": floor_us, "replays": args.replays,
              "rows": rows}
    started = time.time()
    for name, t, build in cases:
        try:
            row = bench.run_case(name, t, build(), copy_gbps, compiled, started)
        except Exception as e:
            row = {"chain": name, "tokens": t, "bytes": 0, "input_sets": 0,
                   "variants": [{"name": "case", "error": str(e)[:300]}]}
            torch.cuda.empty_cache()
        rows.append(row)
        h.print_row(row, time.time() - started)
        with open(os.path.join(args.out, "fp8.json"), "w") as f:
            json.dump(result, f, indent=1)
    md = h.markdown(result)
    with open(os.path.join(args.out, "fp8.md"), "w") as f:
        f.write(md)
    print(md, flush=True)


if __name__ == "__main__":
    sys.exit(main())
