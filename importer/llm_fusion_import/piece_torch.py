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


def read_manifest(piece_dir: str) -> dict:
    with open(os.path.join(piece_dir, "manifest.json")) as f:
        return json.load(f)


def load_module(piece_dir: str, device: str = "cpu", manifest: dict | None = None):
    """The piece's GraphModule on `device`, or None if the importer saved none."""
    manifest = manifest or read_manifest(piece_dir)
    if "torch_module" not in manifest:
        return None
    gm = torch.load(os.path.join(piece_dir, manifest["torch_module"]), weights_only=False)
    if device != "cpu":
        target = torch.device(device)
        for node in gm.graph.nodes:
            if isinstance(node.kwargs.get("device"), torch.device):
                node.update_kwarg("device", target)
        gm.recompile()
    return gm


def _as_recorded(a: torch.Tensor, order) -> torch.Tensor:
    """`a` laid out in the dim order PyTorch had (strides of a transposed view)."""
    if order and list(order) != sorted(order):
        inverse = [order.index(d) for d in range(len(order))]
        a = a.permute(order).contiguous().permute(inverse)
    return a


def load_piece(piece_dir: str, device: str = "cpu", rank: int | None = None):
    """(module, args) of a piece on its recorded arguments, or None if the
    importer saved no module."""
    manifest = read_manifest(piece_dir)
    gm = load_module(piece_dir, device, manifest)
    if gm is None:
        return None
    prefix = f"rank{rank}_" if rank is not None else ""
    args = []
    orders = manifest.get("torch_arg_dim_orders") or [None] * len(manifest["torch_arg_dtypes"])
    for i, (dtype, order) in enumerate(zip(manifest["torch_arg_dtypes"], orders)):
        a = torch.from_numpy(np.load(os.path.join(piece_dir, f"{prefix}arg{i}.npy")))
        args.append(_as_recorded(a.to(getattr(torch, dtype)).to(device), order))
    return gm, args


def random_args(piece_dir: str, tokens: int, device: str = "cpu", seed: int = 0) -> list:
    """Arguments of the piece's recorded shapes with `tokens` in the token
    dim, random (normal * 0.5; integers 0), for timing pieces staged
    without their .npy files (published sizes)."""
    manifest = read_manifest(piece_dir)
    gen = torch.Generator().manual_seed(seed)
    orders = manifest.get("torch_arg_dim_orders") or [None] * len(manifest["torch_arg_shapes"])
    args = []
    for shape, dtype, order in zip(manifest["torch_arg_shapes"], manifest["torch_arg_dtypes"],
                                   orders):
        shape = [tokens if d < 0 else d for d in shape]
        dt = getattr(torch, dtype)
        if dt.is_floating_point:
            a = (torch.randn(shape, generator=gen) * 0.5).to(dt)
        else:
            a = torch.zeros(shape, dtype=dt)
        args.append(_as_recorded(a.to(device), order))
    return args


def expected_outputs(piece_dir: str, rank: int | None = None) -> list:
    """PyTorch's recorded outputs of the piece (f32 for every float type)."""
    manifest = read_manifest(piece_dir)
    prefix = f"rank{rank}_" if rank is not None else ""
    return [np.load(os.path.join(piece_dir, prefix + name)) for name in manifest["outputs"]]
