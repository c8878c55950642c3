"""fusion-import: a model's decoder layer from its config into the llm dialect.

  python -m llm_fusion_import --model qwen3 --out DIR [--tp N]
      [--size tiny|tiny-fp8|published] [--quant fp8-block|fp8-token|fp8-static]
      [--config config.json] [--layer-type full_attention|linear_attention]
      [--seed S] [--tokens N] [--dtype bf16|f16|f32] [--check --bin build/bin]

Builds one decoder layer from a config with random weights (seeded; nothing
is loaded from a hub), exports it with a dynamic token dim, cuts it at
attention, the MoE experts and the linear-attention core, and writes
DIR/pieceK/ (module.mlir, argI.npy or rankR_argI.npy, PyTorch's values at
the cuts as expectedI.npy, manifest.json) and DIR/layer.mlir. With --tp N
the layer is sharded as the config's base_model_tp_plan says, all_reduce
follows each row-wise linear and the pieces carry llm.world_size = N. With
--check it fuses every piece with the C++ tools in --bin, runs the unfused
and the fused module on PyTorch's inputs and compares both with PyTorch.

`--piece post-attention|input-norm` (llama, qwen3) exports a hand-cut piece
instead of a whole layer.
"""

from __future__ import annotations

import argparse
import sys

import torch

from .aten_to_llm import ImportError_
from .export import import_module
from .models import MODELS, config_for, whole_layer
from .partition import import_layer
from .presets import PIECES, piece


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="fusion-import", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", "--preset", dest="model", choices=sorted(MODELS), required=True)
    ap.add_argument("--piece", choices=sorted(PIECES) + ["layer"], default="layer")
    ap.add_argument("--out", required=True)
    ap.add_argument("--tp", type=int, default=1)
    ap.add_argument("--tp-plan", choices=["hf", "vllm"], default="hf",
                    help="the config's base_model_tp_plan, or with vLLM's extra shards "
                         "(DeepSeek-V3's attention)")
    ap.add_argument("--size", choices=["tiny", "tiny-fp8", "published"], default="tiny")
    ap.add_argument("--quant", choices=["fp8-block", "fp8-token", "fp8-static"],
                    help="the FP8 serving form: quantize before each linear an FP8 checkpoint "
                         "quantizes (use --size tiny-fp8 or published: dims of 128)")
    ap.add_argument("--config", help="a local config.json (instead of --size)")
    ap.add_argument("--layer-type", help="which layer of a hybrid model (Qwen3-Next)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tokens", type=int, default=5)
    ap.add_argument("--dtype", choices=["bf16", "f16", "f32"], default="bf16")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--bin", default="build/bin")
    args = ap.parse_args(argv)
    if args.tokens < 2:
        ap.error("--tokens must be at least 2 (torch.export specializes a token dim of 1)")
    if not 1 <= args.tp <= 64:
        ap.error("--tp must be in [1, 64]")
    dtype = {"bf16": torch.bfloat16, "f16": torch.float16, "f32": torch.float32}[args.dtype]
    print(f"fusion-import: building {args.model} ({args.piece}, {args.size}, tp {args.tp}) "
          f"with seed {args.seed}")
    try:
        if args.piece == "layer":
            config = config_for(args.model, args.size, args.config)
            ranks, inputs = [], None
            for r in range(args.tp):
                module, rank_inputs = whole_layer(args.model, args.seed, args.tokens, dtype,
                                                  kind=args.layer_type, config=config,
                                                  tp=args.tp, rank=r, quant=args.quant,
                                                  tp_plan=args.tp_plan)
                ranks.append(module)
                inputs = inputs or rank_inputs
            dirs = import_layer(ranks if args.tp > 1 else ranks[0], inputs, args.out)
        else:
            if args.tp != 1:
                ap.error("--tp needs --piece layer")
            module, inputs = piece(args.model, args.piece, args.seed, args.tokens, dtype)
            import_module(module, inputs, args.out, name=args.piece.replace("-", "_"))
            dirs = [args.out]
    except (ImportError_, ValueError) as e:
        print(f"fusion-import: error: {e}", file=sys.stderr)
        return 1
    print(f"fusion-import: wrote {', '.join(dirs)}")
    if not args.check:
        return 0
    from .check import compare, fuse
    ok = True
    for d in dirs:
        report = fuse(args.bin, d)
        fused = {k: v["fused"] for k, v in report["patterns"].items() if v["fused"]}
        missed = {k: v["missed"] for k, v in report["patterns"].items() if v.get("missed")}
        print(f"fusion-import: {d}: fused {fused}, missed {missed or 'none'}")
        for which in ("module.mlir", "fused.mlir"):
            for c in compare(args.bin, d, which):
                print(f"  {which:12s} rank {c.rank} out {c.output} {c.dtype:9s} "
                      f"rms error {c.rms_rel:.3g} max {c.max_abs:.3g} "
                      f"{'ok' if c.ok else 'MISMATCH'}")
                ok &= c.ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
