"""fusion-import: a piece of a model from its config into the llm dialect.

  python -m llm_fusion_import --preset llama --piece layer|post-attention|input-norm
      --out DIR [--seed S] [--tokens N] [--dtype bf16|f16|f32] [--check --bin build/bin]

Builds the model from a tiny config with random weights (seeded; nothing is
loaded from a hub), exports the piece with a dynamic token dim, writes
DIR/module.mlir, the arguments (argI.npy), PyTorch's outputs (expectedI.npy)
and DIR/manifest.json. `--piece layer` exports the whole decoder layer and
cuts it at attention: DIR/pieceK/ for each piece and DIR/layer.mlir. With --check it also fuses the module with the C++
tools in --bin and compares both programs with PyTorch.
"""

from __future__ import annotations

import argparse
import sys

import torch

from .aten_to_llm import ImportError_
from .export import import_module
from .partition import import_layer
from .presets import PIECES, PRESETS, piece, whole_layer


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="fusion-import", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=PRESETS, required=True)
    ap.add_argument("--piece", choices=sorted(PIECES) + ["layer"], default="layer")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tokens", type=int, default=5)
    ap.add_argument("--dtype", choices=["bf16", "f16", "f32"], default="bf16")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--bin", default="build/bin")
    args = ap.parse_args(argv)
    if args.tokens < 2:
        ap.error("--tokens must be at least 2 (torch.export specializes a token dim of 1)")
    dtype = {"bf16": torch.bfloat16, "f16": torch.float16, "f32": torch.float32}[args.dtype]
    print(f"fusion-import: building {args.preset} ({args.piece}) with seed {args.seed}")
    try:
        if args.piece == "layer":
            module, inputs = whole_layer(args.preset, args.seed, args.tokens, dtype)
            dirs = import_layer(module, inputs, args.out)
        else:
            module, inputs = piece(args.preset, args.piece, args.seed, args.tokens, dtype)
            import_module(module, inputs, args.out, name=args.piece.replace("-", "_"))
            dirs = [args.out]
    except ImportError_ as e:
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
        print(f"fusion-import: {d}: fused {report['totals']['fused']} {fused}, "
              f"missed {report['totals']['missed']}")
        for which in ("module.mlir", "fused.mlir"):
            for c in compare(args.bin, d, which):
                print(f"  {which:12s} out {c.output} {c.dtype:9s} rms error {c.rms_rel:.3g} "
                      f"max {c.max_abs:.3g} {'ok' if c.ok else 'MISMATCH'}")
                ok &= c.ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
