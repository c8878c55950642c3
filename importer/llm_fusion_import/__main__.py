"""fusion-import: a piece of a model from its config into the llm dialect.

  python -m llm_fusion_import --preset llama --piece post-attention --out DIR
      [--seed S] [--tokens N] [--check --bin build/bin]

Builds the model from a tiny config with random weights (seeded; nothing is
loaded from a hub), exports the piece with a dynamic token dim, writes
DIR/module.mlir, the arguments (argI.npy), PyTorch's outputs (expectedI.npy)
and DIR/manifest.json. With --check it also fuses the module with the C++
tools in --bin and compares both programs with PyTorch.
"""

from __future__ import annotations

import argparse
import sys

import torch

from .aten_to_llm import ImportError_
from .export import import_module
from .presets import PIECES, PRESETS, piece


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="fusion-import", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=PRESETS, required=True)
    ap.add_argument("--piece", choices=sorted(PIECES), default="post-attention")
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
    module, inputs = piece(args.preset, args.piece, args.seed, args.tokens, dtype)
    try:
        imported = import_module(module, inputs, args.out, name=args.piece.replace("-", "_"))
    except ImportError_ as e:
        print(f"fusion-import: error: {e}", file=sys.stderr)
        return 1
    print(f"fusion-import: wrote {imported.module_path}")
    if not args.check:
        return 0
    from .check import compare, fuse
    report = fuse(args.bin, args.out)
    print(f"fusion-import: fused {report['totals']['fused']} chains, missed {report['totals']['missed']}")
    ok = True
    for which in ("module.mlir", "fused.mlir"):
        for c in compare(args.bin, args.out, which):
            print(f"  {which:12s} out {c.output} {c.dtype:9s} rms error {c.rms_rel:.3g} "
                  f"max {c.max_abs:.3g} {'ok' if c.ok else 'MISMATCH'}")
            ok &= c.ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
