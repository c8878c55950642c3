"""Tensor-parallel sharding of a decoder layer, as its config's
`base_model_tp_plan` says.

Rank r of N keeps its slice of every planned linear:
- colwise: output features (rows of the weight, and the bias); heads split
  with them, since transformers' attention views its projections with -1
  heads;
- rowwise: input features (columns); the partial output is summed over the
  ranks by `llm_fusion::all_reduce` (regions.py), and a bias is added once,
  after the sum.
Inside a MoE block (a module with `experts`) the partial outputs of the
routed experts (an expert-parallel split: rank r runs the experts e with
e % N == r, models.py) and of the shared expert are added first and summed
over the ranks once, at the block's output, as vLLM does. Styles that keep
the full output on every rank (`replicated_*`, `colwise_gather_output`)
leave the module replicated. Modules the plan does not name (norms, the
router, DeepSeek-V3's attention in transformers' plan) are replicated.
"""

from __future__ import annotations

import fnmatch

import torch
import torch.nn.functional as F

from . import regions

# vLLM shards what transformers' plans leave replicated: DeepSeek-V3's MLA
# (heads split in q_b_proj / kv_b_proj, the latent projections replicated,
# o_proj row-wise), as vLLM's DeepseekV2MLAAttention does.
VLLM_PLAN_EXTRA = {
    "deepseek-v3": {
        "layers.*.self_attn.q_b_proj": "colwise",
        "layers.*.self_attn.q_proj": "colwise",
        "layers.*.self_attn.kv_b_proj": "colwise",
        "layers.*.self_attn.o_proj": "rowwise",
    },
}


def plan_for(model: str, config, plan: str = "hf") -> dict:
    """The tensor-parallel plan: the config's base_model_tp_plan, plus
    vLLM's extra entries with plan="vllm"."""
    base = dict(getattr(config, "base_model_tp_plan", None) or {})
    if plan == "vllm":
        base.update(VLLM_PLAN_EXTRA.get(model, {}))
    elif plan != "hf":
        raise ValueError(f"unknown tensor-parallel plan '{plan}' (hf or vllm)")
    return base


_REPLICATED = ("replicated_with_grad_allreduce", "colwise_gather_output", "packed_colwise",
               "moe_tp_experts", "local_rowwise", "local_colwise", "local")


def _rows(t: torch.Tensor, tp: int, rank: int, dim: int) -> torch.Tensor:
    n = t.shape[dim]
    if n % tp:
        raise ValueError(f"cannot shard {n} features {tp} ways")
    return t.narrow(dim, rank * (n // tp), n // tp).contiguous()


class RowwiseLinear(torch.nn.Module):
    """A row-wise shard: x's slice of input features times the weight's
    columns, summed over the ranks (unless the enclosing MoE block sums),
    then the bias."""

    def __init__(self, linear: torch.nn.Linear, tp: int, rank: int, reduce: bool):
        super().__init__()
        self.weight = torch.nn.Parameter(_rows(linear.weight.data, tp, rank, 1),
                                         requires_grad=False)
        self.bias = linear.bias
        self.reduce = reduce

    def forward(self, x):
        y = F.linear(x, self.weight)
        if self.reduce:
            y = regions.all_reduce(y)
        return y if self.bias is None else y + self.bias


class ReducedOutput(torch.nn.Module):
    """A MoE block whose partial output is summed over the ranks once."""

    def __init__(self, block: torch.nn.Module):
        super().__init__()
        self.block = block

    def forward(self, *args, **kwargs):
        out = self.block(*args, **kwargs)
        if isinstance(out, tuple):
            return (regions.all_reduce(out[0]),) + tuple(out[1:])
        return regions.all_reduce(out)


def _plan_entries(plan: dict) -> list:
    """(pattern inside one layer, style) from the model-level plan."""
    out = []
    for key, style in plan.items():
        if key.startswith("layers.*."):
            out.append((key[len("layers.*."):], style))
    return out


def shard(layer: torch.nn.Module, plan: dict, tp: int, rank: int) -> list:
    """Shards `layer` in place for rank `rank` of `tp`; returns what was
    done, one line per module, for the report."""
    if tp == 1:
        return []
    done = []
    names = dict(layer.named_modules())
    moe_blocks = [n for n, m in names.items() if hasattr(m, "experts") and n]
    for pattern, style in _plan_entries(plan):
        for name, module in list(names.items()):
            if not fnmatch.fnmatchcase(name, pattern):
                continue
            if style in _REPLICATED:
                done.append(f"{name}: {style} (replicated)")
                continue
            if not isinstance(module, torch.nn.Linear):
                raise ValueError(f"{name}: {style} on a {type(module).__name__}")
            parent_name, _, leaf = name.rpartition(".")
            parent = layer.get_submodule(parent_name) if parent_name else layer
            if style == "colwise":
                module.weight = torch.nn.Parameter(_rows(module.weight.data, tp, rank, 0),
                                                   requires_grad=False)
                if module.bias is not None:
                    module.bias = torch.nn.Parameter(_rows(module.bias.data, tp, rank, 0),
                                                     requires_grad=False)
                module.out_features //= tp
                done.append(f"{name}: colwise")
            elif style == "rowwise":
                in_moe = any(name.startswith(b + ".") for b in moe_blocks)
                setattr(parent, leaf, RowwiseLinear(module, tp, rank, reduce=not in_moe))
                done.append(f"{name}: rowwise" + (" (summed at the MoE block)" if in_moe
                                                  else ", all_reduce"))
            else:
                raise ValueError(f"{name}: tensor-parallel style '{style}' is not supported")
    for block in moe_blocks:
        parent_name, _, leaf = block.rpartition(".")
        parent = layer.get_submodule(parent_name) if parent_name else layer
        setattr(parent, leaf, ReducedOutput(names[block]))
        done.append(f"{block}: MoE block output, all_reduce (experts split by expert)")
    return done
