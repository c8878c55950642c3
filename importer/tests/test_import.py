"""fusion-import end to end: export a piece of a real transformers layer,
raise and fuse it with the C++ pipeline, run both programs on PyTorch's
inputs and weights, and compare with PyTorch's own outputs."""

import json

import pytest
import torch

from llm_fusion_import import UnsupportedOp, import_module
from llm_fusion_import.check import compare, fuse
from llm_fusion_import.partition import import_layer
from llm_fusion_import.models import whole_layer
from llm_fusion_import.presets import piece


def _import(tmp_path, preset, name, dtype=torch.bfloat16, tokens=5):
    module, inputs = piece(preset, name, seed=3, tokens=tokens, dtype=dtype)
    imported = import_module(module, inputs, str(tmp_path), name=name.replace("-", "_"),
                             progress=lambda *_: None)
    return imported


@pytest.mark.parametrize("preset", ["llama", "qwen3"])
def test_post_attention_piece_raises_fuses_and_matches_pytorch(tmp_path, bin_dir, preset):
    _import(tmp_path, preset, "post-attention")
    report = fuse(bin_dir, str(tmp_path))
    # The decomposed norm is raised, then fused with the residual add before it.
    assert report["patterns"]["RaiseRMSNorm"]["fused"] == 1
    assert report["patterns"]["AddRMSNorm"]["fused"] == 1
    assert report["totals"]["missed"] == 0
    fused = (tmp_path / "fused.mlir").read_text()
    assert "llm.fused_add_rms_norm" in fused and "llm.rsqrt" not in fused
    for which in ("module.mlir", "fused.mlir"):
        for c in compare(bin_dir, str(tmp_path), which):
            assert c.ok, f"{preset} {which} output {c.output}: rms error {c.rms_rel}"
    # The unfused module computes what PyTorch computes, bit for bit here.
    unfused = compare(bin_dir, str(tmp_path), "module.mlir")
    assert all(c.max_abs == 0.0 for c in unfused)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_input_norm_in_other_dtypes(tmp_path, bin_dir, dtype):
    _import(tmp_path, "llama", "input-norm", dtype=dtype, tokens=9)
    report = fuse(bin_dir, str(tmp_path))
    assert report["patterns"]["RaiseRMSNorm"]["fused"] == 1
    for which in ("module.mlir", "fused.mlir"):
        for c in compare(bin_dir, str(tmp_path), which):
            assert c.ok, f"{dtype} {which}: rms error {c.rms_rel}"


def test_manifest_names_every_argument(tmp_path):
    imported = _import(tmp_path, "llama", "post-attention")
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["arguments"][0] == "parameter:post_attention_layernorm.weight"
    assert manifest["arguments"][-2:] == ["user_input:attn_out", "user_input:residual"]
    assert all((tmp_path / f"arg{i}.npy").exists() for i in range(len(imported.arg_kinds)))
    text = (tmp_path / "module.mlir").read_text()
    assert "tensor<1x?x64xbf16>" in text  # the token dim is dynamic


def test_unsupported_op_names_the_aten_op_and_the_source_line(tmp_path):
    class Cumsum(torch.nn.Module):
        def forward(self, x):
            return torch.cumsum(x, dim=-1)

    with pytest.raises(UnsupportedOp) as e:
        import_module(Cumsum(), (torch.randn(1, 4, 8),), str(tmp_path), progress=lambda *_: None)
    assert "aten.cumsum" in str(e.value)
    assert "test_import.py" in str(e.value)


@pytest.mark.parametrize("preset", ["llama", "qwen3"])
def test_whole_layer_cut_at_attention(tmp_path, bin_dir, preset):
    """The layer is cut at SDPA into the piece before attention (input norm,
    q/k/v projections, q/k norms, rotary embedding) and the piece after (o
    projection, residual, post-attention norm, MLP). Every piece matches
    PyTorch's values at the cuts: bit for bit unfused, within a rounding
    fused."""
    module, inputs = whole_layer(preset, seed=2, tokens=6, next_norm=False)
    pieces = import_layer(module, inputs, str(tmp_path), progress=lambda *_: None)
    assert len(pieces) == 2
    norms = {"llama": 1, "qwen3": 3}[preset]  # input norm, and q and k norms in Qwen3
    before = fuse(bin_dir, pieces[0])
    assert before["patterns"]["RaiseRMSNorm"]["fused"] == norms
    if preset == "qwen3":  # q and k norms of separate projections, on [1, T, H, D]
        assert before["patterns"]["QKRMSNorm"]["fused"] == 1
    assert before["totals"]["missed"] == 0
    after = fuse(bin_dir, pieces[1])
    assert after["patterns"]["AddRMSNorm"]["fused"] == 1
    for p in pieces:
        for which in ("module.mlir", "fused.mlir"):
            for c in compare(bin_dir, p, which):
                assert c.ok, f"{preset} {p} {which} output {c.output}: rms error {c.rms_rel}"
        assert all(c.max_abs == 0.0 for c in compare(bin_dir, p, "module.mlir"))
    assert (tmp_path / "layer.mlir").exists()


@pytest.mark.parametrize("model,size,quant", [("qwen3", "tiny", None),
                                              ("deepseek-v3", "tiny-fp8", "fp8-block")])
def test_piece_torch_modules_reproduce_pytorch(tmp_path, model, size, quant):
    """Each piece's saved PyTorch module (piece.pt, what bench/pieces times
    eager and under torch.compile) computes PyTorch's recorded values at the
    cuts bit for bit from the piece's arguments: the same work as the
    piece's plans."""
    from llm_fusion_import.piece_torch import expected_outputs, load_piece

    module, inputs = whole_layer(model, seed=3, tokens=6, size=size, quant=quant)
    pieces = import_layer(module, inputs, str(tmp_path), progress=lambda *_: None)
    loaded = 0
    for p in pieces:
        got = load_piece(p)
        assert got is not None, f"{p} has no piece.pt"
        gm, args = got
        with torch.no_grad():
            outs = gm(*args)
        expected = expected_outputs(p)
        assert len(outs) == len(expected)
        for o, e in zip(outs, expected):
            actual = o.float().numpy() if o.is_floating_point() else o.numpy()
            assert actual.shape == e.shape and (actual == e).all(), p
        loaded += 1
    assert loaded == len(pieces) >= 2


def test_piece_torch_random_args_at_any_token_count(tmp_path):
    """Pieces staged without their .npy files (published sizes) still run:
    random arguments of the recorded shapes at another token count, dims
    other than the token dim as recorded."""
    from llm_fusion_import.piece_torch import load_module, load_piece, random_args

    module, inputs = whole_layer("llama", seed=3, tokens=6)
    pieces = import_layer(module, inputs, str(tmp_path), progress=lambda *_: None)
    for p in pieces:
        _, recorded = load_piece(p)
        args = random_args(p, tokens=11)
        for a, r in zip(args, recorded):
            assert a.dtype == r.dtype and a.dim() == r.dim()
            assert [d for d in a.shape if d != 11] == [d for d in r.shape if d != 6]
        with torch.no_grad():
            outs = load_module(p)(*args)
        assert all(torch.isfinite(o.float()).all() for o in outs)
