"""The seven model families, whole decoder layers at TP 1 and TP 2: each is
imported, cut at its opaque regions, raised and fused as issue 13 lists, and
both the unfused and the fused pieces match PyTorch's values at the cuts."""

import glob
import json
import os

import numpy as np
import pytest
import torch

from llm_fusion_import.check import compare, fuse
from llm_fusion_import.models import whole_layer
from llm_fusion_import.partition import import_layer

# What must fuse, per model and layer kind, summed over the pieces; at TP 2
# the all-reduce patterns take the residual adds after sharded modules.
EXPECTED = {
    ("llama", None): {"RaiseRMSNorm": 3},
    ("qwen3", None): {"QKRMSNorm": 1},
    ("qwen3-moe", None): {"QKRMSNorm": 1},
    ("gemma3", None): {"QKGemmaRMSNorm": 1},
    ("deepseek-v3", None): {"MoERouter": 1},
    ("glm4-moe", None): {"QKRMSNorm": 1, "MoERouter": 1},
    ("qwen3-next", "full_attention"): {"QKGemmaRMSNorm": 1},
    ("qwen3-next", "linear_attention"): {"RaiseRMSNormGated": 1},
}
# The residual adds that feed a norm: add + RMSNorm at TP 1; at TP 2 the
# all-reduce joins where the plan shards the module before the add.
RESIDUAL = {
    "llama": (2, {"AllReduceFusedAddRMSNorm": 2}),
    "qwen3": (2, {"AllReduceFusedAddRMSNorm": 2}),
    "qwen3-moe": (2, {"AllReduceFusedAddRMSNorm": 2}),
    # The post-attention norm has no residual: all-reduce + Gemma RMSNorm.
    "gemma3": (2, {"AllReduceGemmaRMSNorm": 2}),
    # transformers' plan leaves DeepSeek-V3's attention replicated.
    "deepseek-v3": (2, {"AllReduceFusedAddRMSNorm": 1}),
    "glm4-moe": (2, {"AllReduceFusedAddRMSNorm": 2}),
    "qwen3-next": (2, {"AllReduceFusedAddGemmaRMSNorm": 1}),
}
CASES = [(m, k, tp) for (m, k) in EXPECTED for tp in (1, 2)]


def _import(tmp_path, model, kind, tp, seed=5, tokens=6):
    ranks, inputs = [], None
    for r in range(tp):
        module, rank_inputs = whole_layer(model, seed=seed, tokens=tokens, kind=kind, tp=tp, rank=r)
        ranks.append(module)
        inputs = inputs or rank_inputs
    return import_layer(ranks if tp > 1 else ranks[0], inputs, str(tmp_path),
                        progress=lambda *_: None), inputs


@pytest.mark.parametrize("model,kind,tp", CASES,
                         ids=[f"{m}-{k or 'layer'}-tp{tp}" for m, k, tp in CASES])
def test_layer_fuses_and_matches_pytorch(tmp_path, bin_dir, model, kind, tp):
    pieces, _ = _import(tmp_path, model, kind, tp)
    fused, missed = {}, 0
    for d in pieces:
        report = fuse(bin_dir, d)
        missed += report["totals"]["missed"]
        for name, entry in report["patterns"].items():
            fused[name] = fused.get(name, 0) + entry["fused"]
        for which in ("module.mlir", "fused.mlir"):
            for c in compare(bin_dir, d, which):
                assert c.ok, f"{d} {which} rank {c.rank} output {c.output}: {c.rms_rel}"
        # Nothing the pipeline leaves behind is a decomposed norm.
        assert "llm.rsqrt" not in open(os.path.join(d, "fused.mlir")).read()
    for name, count in EXPECTED[(model, kind)].items():
        assert fused.get(name, 0) >= count, (name, fused)
    adds, at_tp2 = RESIDUAL[model]
    if tp == 1:
        assert fused.get("AddRMSNorm", 0) >= (adds if kind != "linear_attention" else 2), fused
    else:
        for name, count in at_tp2.items():
            assert fused.get(name, 0) >= count, (name, fused)
    assert missed == 0


def test_tp2_ranks_reproduce_the_unsharded_layer(tmp_path):
    """The sharded ranks, summed by the all-reduces, compute the unsharded
    PyTorch layer (within bf16 roundings of the partial sums)."""
    pieces, inputs = _import(tmp_path / "tp2", "qwen3", None, 2)
    module, _ = whole_layer("qwen3", seed=5, tokens=6)
    with torch.no_grad():
        normed, out = module(*inputs)
    last = pieces[-1]
    manifest = json.loads(open(os.path.join(last, "manifest.json")).read())
    assert manifest["world_size"] == 2
    for r in range(2):
        got = [np.load(os.path.join(last, f"rank{r}_expected{i}.npy")) for i in range(2)]
        # The piece's results in graph order: the residual sum, then its norm.
        for g, ref in zip(got, (out, normed)):
            ref = ref.float().numpy()
            rms = np.sqrt(((g - ref) ** 2).mean()) / np.sqrt((ref ** 2).mean())
            assert rms < 2e-2, rms
    text = open(os.path.join(last, "module.mlir")).read()
    assert "llm.world_size = 2" in text and '"llm.all_reduce"' in text
    assert glob.glob(os.path.join(last, "rank1_arg*.npy"))


def test_experts_and_linear_attention_are_cut(tmp_path):
    pieces, _ = _import(tmp_path, "qwen3-next", "linear_attention", 1)
    text = "".join(open(os.path.join(d, "module.mlir")).read() for d in pieces)
    # The delta rule, the convolution and the experts stay outside the pieces;
    # the gated norm, the router and the norms are inside.
    assert "llm.softmax" in text and "llm.topk" in text and "llm.softplus" in text
    assert len(pieces) == 4


def test_vllm_plan_shards_deepseek_attention(tmp_path, bin_dir):
    """--tp-plan vllm shards DeepSeek-V3's MLA (q_b_proj, kv_b_proj
    column-wise, o_proj row-wise), which transformers' plan leaves
    replicated: both residual adds then take the all-reduce."""
    ranks, inputs = [], None
    for r in range(2):
        module, rank_inputs = whole_layer("deepseek-v3", seed=5, tokens=6, tp=2, rank=r,
                                          tp_plan="vllm")
        ranks.append(module)
        inputs = inputs or rank_inputs
    pieces = import_layer(ranks, inputs, str(tmp_path), progress=lambda *_: None)
    fused = 0
    for d in pieces:
        fused += fuse(bin_dir, d)["patterns"].get("AllReduceFusedAddRMSNorm", {}).get("fused", 0)
        for which in ("module.mlir", "fused.mlir"):
            for c in compare(bin_dir, d, which):
                assert c.ok, f"{d} {which} rank {c.rank} output {c.output}: {c.rms_rel}"
    assert fused == 2
