"""The FP8 serving form of imported layers (--quant): the chains feeding
each quantized linear fuse (norm + quant, add + norm + quant, SiLU-and-mul +
quant, Qwen3-Next's gated norm + quant), and both the unfused and the fused
pieces match PyTorch emulating the same quantization."""

import os
import subprocess

import pytest

from llm_fusion_import.check import compare, fuse
from llm_fusion_import.models import whole_layer
from llm_fusion_import.partition import import_layer

CASES = [
    # model, layer kind, mode, what must fuse (summed over the pieces)
    ("llama", None, "fp8-block", {"RMSNormQuantFP8": 1, "FusedAddRMSNormQuantFP8": 2,
                                  "SiluMulQuantFP8": 1}),
    ("qwen3", None, "fp8-token", {"RMSNormQuantFP8": 1, "FusedAddRMSNormQuantFP8": 2,
                                  "SiluMulQuantFP8": 1, "QKRMSNorm": 1}),
    ("llama", None, "fp8-static", {"RMSNormQuantFP8": 1, "FusedAddRMSNormQuantFP8": 2,
                                   "SiluMulQuantFP8": 1}),
    ("deepseek-v3", None, "fp8-block", {"RMSNormQuantFP8": 2, "FusedAddRMSNormQuantFP8": 1,
                                        "SiluMulQuantFP8": 1, "MoERouter": 1}),
    ("qwen3-next", "linear_attention", "fp8-block", {"RMSNormGatedQuantFP8": 1,
                                                     "FusedAddRMSNormQuantFP8": 1,
                                                     "SiluMulQuantFP8": 1}),
]


@pytest.mark.parametrize("model,kind,mode,expected", CASES,
                         ids=[f"{m}-{k or 'layer'}-{q}" for m, k, q, _ in CASES])
def test_fp8_layer_fuses_and_matches_pytorch(tmp_path, bin_dir, model, kind, mode, expected):
    module, inputs = whole_layer(model, seed=4, tokens=6, kind=kind, size="tiny-fp8", quant=mode)
    pieces = import_layer(module, inputs, str(tmp_path), progress=lambda *_: None)
    fused = {}
    for d in pieces:
        report = fuse(bin_dir, d)
        for name, entry in report["patterns"].items():
            fused[name] = fused.get(name, 0) + entry["fused"]
        for which in ("module.mlir", "fused.mlir"):
            for c in compare(bin_dir, d, which):
                assert c.ok, f"{d} {which} output {c.output} ({c.dtype}): {c.rms_rel}"
        text = open(os.path.join(d, "fused.mlir")).read()
        assert "llm.rsqrt" not in text
    for name, count in expected.items():
        assert fused.get(name, 0) >= count, (name, fused)
    # Every quantized linear runs as an FP8 GEMM on codes and scales.
    assert any("llm.matmul_fp8" in open(os.path.join(d, "module.mlir")).read() for d in pieces)


@pytest.mark.parametrize("mode", ["fp8-block", "fp8-static"])
def test_fp8_layer_at_tp2_fuses_all_reduce_norm_quant(tmp_path, bin_dir, mode):
    """At TP 2 the row-wise FP8 linears' partial products are all-reduced:
    all-reduce + add + RMSNorm + FP8 quant fuses whole on a real layer (the
    post-attention norm and the next layer's input norm)."""
    ranks, inputs = [], None
    for r in range(2):
        module, rank_inputs = whole_layer("llama", seed=4, tokens=6, size="tiny-fp8", quant=mode,
                                          tp=2, rank=r)
        ranks.append(module)
        inputs = inputs or rank_inputs
    pieces = import_layer(ranks, inputs, str(tmp_path), progress=lambda *_: None)
    fused = {}
    for d in pieces:
        report = fuse(bin_dir, d)
        assert report["totals"]["missed"] == 0
        for name, entry in report["patterns"].items():
            fused[name] = fused.get(name, 0) + entry["fused"]
        for which in ("module.mlir", "fused.mlir"):
            for c in compare(bin_dir, d, which):
                assert c.ok, f"{d} {which} rank {c.rank} output {c.output}: {c.rms_rel}"
    assert fused.get("AllReduceFusedAddRMSNormQuantFP8", 0) >= 2, fused
    assert fused.get("SiluMulQuantFP8", 0) >= 1, fused


@pytest.mark.parametrize("model", ["deepseek-v3", "llama"])
def test_fp8_layer_with_column_major_scales_matches_pytorch(tmp_path, bin_dir, model):
    """DeepGEMM's column-major scales on a real FP8 layer: after the pipeline,
    --llm-fp8-scale-layout switches every quantization whose scales only the
    block FP8 linears read (the fused norm + quant and SiLU-and-mul + quant
    ops among them), and the module still computes PyTorch's values."""
    module, inputs = whole_layer(model, seed=5, tokens=7, size="tiny-fp8", quant="fp8-block")
    pieces = import_layer(module, inputs, str(tmp_path), progress=lambda *_: None)
    relaid = 0
    for d in pieces:
        out = os.path.join(d, "colmajor.mlir")
        subprocess.run([os.path.join(bin_dir, "fusion-opt"), os.path.join(d, "module.mlir"),
                        "--llm-fusion-pipeline", "--llm-fp8-scale-layout", "-o", out],
                       check=True, capture_output=True)
        text = open(out).read()
        relaid += text.count(" scale_col_major = true")
        assert text.count("x_scale_col_major = true") >= text.count(" scale_col_major = true")
        for c in compare(bin_dir, d, "colmajor.mlir"):
            assert c.ok, f"{d} output {c.output} ({c.dtype}): {c.rms_rel}"
    assert relaid >= 3  # norm + quant, add + norm + quant, SiLU-and-mul + quant at least
