"""An imported piece as PyTorch code, to run and time beside our plans.

partition.py saves each piece's aten graph as a GraphModule (`piece.pt`,
the same calls on the same arguments as the piece's `module.mlir`). This
module loads it with the piece's `.npy` arguments in their dtypes, on any
device (factory calls that named the CPU are moved to it). torch and numpy
only, so it runs on the GPU machine, where transformers is absent:
bench/pieces times eager and torch.compile of it there.
"""

from __future__ import annotations

import json
import os

import numpy as np
import torch

from . import quant, regions  # noqa: F401  (registers the llm_fusion ops the graph calls)


def load_piece(piece_dir: str, device: str = "cpu", rank: int | None = None):
    """(module, args) of a piece, or None if the importer saved no module."""
    with open(os.path.join(piece_dir, "manifest.json")) as f:
        manifest = json.load(f)
    if "torch_module" not in manifest:
        return None
    gm = torch.load(os.path.join(piece_dir, manifest["torch_module"]), weights_only=False)
    if device != "cpu":
        target = torch.device(device)
        for node in gm.graph.nodes:
            if isinstance(node.kwargs.get("device"), torch.device):
                node.update_kwarg("device", target)
        gm.recompile()
    prefix = f"rank{rank}_" if rank is not None else ""
    args = []
    orders = manifest.get("torch_arg_dim_orders") or [None] * len(manifest["torch_arg_dtypes"])
    for i, (dtype, order) in enumerate(zip(manifest["torch_arg_dtypes"], orders)):
        a = torch.from_numpy(np.load(os.path.join(piece_dir, f"{prefix}arg{i}.npy")))
        a = a.to(getattr(torch, dtype)).to(device)
        if order and list(order) != sorted(order):
            # Laid out in the dim order PyTorch had (strides of a transposed view).
            inverse = [order.index(d) for d in range(len(order))]
            a = a.permute(order).contiguous().permute(inverse)
        args.append(a)
    return gm, args


def expected_outputs(piece_dir: str, rank: int | None = None) -> list:
    """PyTorch's recorded outputs of the piece (f32 for every float type)."""
    with open(os.path.join(piece_dir, "manifest.json")) as f:
        manifest = json.load(f)
    prefix = f"rank{rank}_" if rank is not None else ""
    return [np.load(os.path.join(piece_dir, prefix + name)) for name in manifest["outputs"]]
