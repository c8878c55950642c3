"""Build a piece of a transformers model, export it, and write what the C++
tools need: `module.mlir`, the parameters and inputs as `argI.npy` (in
argument order), PyTorch's outputs as `expectedI.npy`, and `manifest.json`.

Models are built from configs with random weights (a seed); nothing is ever
loaded from a hub.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np
import torch

from .aten_to_llm import to_llm_module


@dataclass
class ImportedPiece:
    directory: str
    module_path: str
    arg_kinds: list
    num_outputs: int


def _save(path: str, t: torch.Tensor) -> None:
    # numpy has no bf16: f32 holds every bf16 and f16 value exactly.
    a = t.detach().cpu()
    a = a.to(torch.float32) if a.is_floating_point() else a
    np.save(path, a.numpy())


def import_module(module: torch.nn.Module, example_inputs: tuple, out_dir: str,
                  name: str = "piece", token_dim: int = 1, progress=print) -> ImportedPiece:
    """Exports `module` with the token dim (`token_dim` of every input)
    dynamic, writes the llm module, the arguments and PyTorch's outputs."""
    os.makedirs(out_dir, exist_ok=True)
    module = module.eval()
    tokens = torch.export.Dim("T", min=2, max=1 << 20)
    dynamic = tuple({token_dim: tokens} for _ in example_inputs)
    progress(f"fusion-import: exporting {type(module).__name__} (torch.export, dynamic tokens)")
    with torch.no_grad():
        program = torch.export.export(module, example_inputs, dynamic_shapes=dynamic,
                                      strict=False).run_decompositions({})
        expected = module(*example_inputs)
    if isinstance(expected, torch.Tensor):
        expected = (expected,)
    progress("fusion-import: writing the llm module")
    text, kinds = to_llm_module(program, name)
    module_path = os.path.join(out_dir, "module.mlir")
    with open(module_path, "w") as f:
        f.write(text)
    params = dict(module.named_parameters())
    params.update(dict(module.named_buffers()))
    inputs = list(example_inputs)
    progress(f"fusion-import: writing {len(kinds)} arguments and {len(expected)} reference outputs")
    for i, kind in enumerate(kinds):
        what, _, ref = kind.partition(":")
        tensor = params[ref] if what == "parameter" else inputs.pop(0)
        _save(os.path.join(out_dir, f"arg{i}.npy"), tensor)
    for i, t in enumerate(expected):
        _save(os.path.join(out_dir, f"expected{i}.npy"), t)
    manifest = {
        "function": name,
        "module": "module.mlir",
        "arguments": kinds,
        "outputs": [f"expected{i}.npy" for i in range(len(expected))],
        "output_dtypes": [str(t.dtype).replace("torch.", "") for t in expected],
        "tokens": int(example_inputs[0].shape[token_dim]),
    }
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    return ImportedPiece(out_dir, module_path, kinds, len(expected))
