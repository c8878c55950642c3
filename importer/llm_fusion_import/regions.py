"""Opaque regions and the tensor-parallel all-reduce, as torch custom ops.

An opaque region (attention's core, the MoE experts, Qwen3-Next's
linear-attention core) is what an engine runs with its own kernels; the
importer cuts the graph there. Wrapping the region's callable in
`llm_fusion::region` makes torch.export keep it as one node, whatever it
does inside (the experts' data-dependent loops included), so the cut is a
node like scaled_dot_product_attention. Eagerly the op runs the wrapped
callable; under export its fake runs the region's own shape function.

`llm_fusion::all_reduce` marks where a tensor-parallel rank sums its
partial result with the other ranks' (after a row-wise linear). Eagerly it
is the identity; the recorder (partition.py) sums it over the ranks.
"""

from __future__ import annotations

import torch

_REGIONS: dict[int, tuple] = {}


@torch.library.custom_op("llm_fusion::region", mutates_args=())
def region(key: int, inputs: list[torch.Tensor]) -> torch.Tensor:
    fn, _, _ = _REGIONS[key]
    return fn(*inputs).clone()


@region.register_fake
def _region_fake(key: int, inputs: list[torch.Tensor]) -> torch.Tensor:
    _, shape_fn, _ = _REGIONS[key]
    return shape_fn(*inputs)


@torch.library.custom_op("llm_fusion::all_reduce", mutates_args=())
def all_reduce(x: torch.Tensor) -> torch.Tensor:
    return x.clone()


@all_reduce.register_fake
def _all_reduce_fake(x: torch.Tensor) -> torch.Tensor:
    return torch.empty_like(x)


def opaque(name: str, fn, shape_fn):
    """`fn` as one opaque node: calls of the returned function become
    `llm_fusion::region` nodes named by `name` in the region table."""
    key = len(_REGIONS)
    _REGIONS[key] = (fn, shape_fn, name)

    def call(*inputs):
        return region(key, list(inputs))

    return call


def region_name(node) -> str:
    """What a cut is: "attention" for SDPA, else the region's name."""
    if node.target == REGION:
        return _REGIONS[node.args[0]][2]
    return "attention"
REGION = torch.ops.llm_fusion.region.default
ALL_REDUCE = torch.ops.llm_fusion.all_reduce.default
