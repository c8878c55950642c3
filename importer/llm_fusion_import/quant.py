"""The FP8 serving form of a layer: every linear an FP8 checkpoint quantizes
runs on FP8 operands, as vLLM serves DeepSeek-V3, Qwen3 and Qwen3-Next FP8.

Modes (`--quant`):
- fp8-block: activations per 1x128 group (dynamic), weights per 128x128
  block (DeepSeek-V3's checkpoints);
- fp8-token: activations per token (dynamic), weights per output channel;
- fp8-static: one static scale per activation tensor (calibrated on the
  example input) and per weight.

Each quantized linear becomes `llm_fusion::quant_fp8` (or `quant_fp8_static`)
on its input and `llm_fusion::matmul_fp8` on the codes: custom ops whose
eager bodies are PyTorch emulating the spec's arithmetic (so the recorded
values are what the quantized model computes) and which the importer writes
as llm.quant_fp8 / quant_fp8_static / matmul_fp8. Linears that read the same
tensor share one quantization, as an engine quantizes a norm's output once
for q, k and v.
"""

from __future__ import annotations

import torch

FP8 = torch.float8_e4m3fn
MODES = ("fp8-block", "fp8-token", "fp8-static")


def _group_quant(x: torch.Tensor, group: int):
    shape = x.shape
    xg = x.float().reshape(*shape[:-1], shape[-1] // group, group)
    amax = xg.abs().amax(-1, keepdim=True)
    scale = torch.where(torch.isnan(amax), amax, amax.clamp(min=1e-10)) / 448.0
    q = (xg / scale).clamp(-448.0, 448.0).to(FP8)  # the spec saturates
    return q.reshape(shape), scale.reshape(*shape[:-1], shape[-1] // group)


@torch.library.custom_op("llm_fusion::quant_fp8", mutates_args=())
def quant_fp8(x: torch.Tensor, group: int) -> tuple[torch.Tensor, torch.Tensor]:
    return _group_quant(x, group)


@quant_fp8.register_fake
def _quant_fp8_fake(x, group):
    return (x.new_empty(x.shape, dtype=FP8),
            x.new_empty((*x.shape[:-1], x.shape[-1] // group), dtype=torch.float32))


@torch.library.custom_op("llm_fusion::quant_fp8_static", mutates_args=())
def quant_fp8_static(x: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return (x.float() / scale).clamp(-448.0, 448.0).to(FP8)


@quant_fp8_static.register_fake
def _quant_fp8_static_fake(x, scale):
    return x.new_empty(x.shape, dtype=FP8)


@torch.library.custom_op("llm_fusion::matmul_fp8", mutates_args=())
def matmul_fp8(x: torch.Tensor, x_scale: torch.Tensor, w: torch.Tensor, w_scale: torch.Tensor,
               out_dtype: torch.dtype) -> torch.Tensor:
    """The spec's FP8 linear: per K-block products summed, times both
    blocks' scales, in fp32 or wider."""
    k, n = x.shape[-1], w.shape[0]
    xf, wf = x.double(), w.double()
    if x_scale.dim() == 0:
        y = (xf @ wf.T) * (x_scale.double() * w_scale.double())
    elif x_scale.shape[-1] == 1 and w_scale.dim() == 1:
        y = (xf @ wf.T) * x_scale.double() * w_scale.double()
    else:
        kb = (k + 127) // 128
        y = torch.zeros(*x.shape[:-1], n, dtype=torch.float64)
        wsd = w_scale.double().repeat_interleave(128, 0)[:n]  # [N, kb]
        for b in range(kb):
            part = xf[..., b * 128:(b + 1) * 128] @ wf[:, b * 128:(b + 1) * 128].T
            y += part * x_scale[..., b:b + 1].double() * wsd[:, b]
    return y.to(out_dtype)


@matmul_fp8.register_fake
def _matmul_fp8_fake(x, x_scale, w, w_scale, out_dtype):
    return x.new_empty((*x.shape[:-1], w.shape[0]), dtype=out_dtype)


QUANT = torch.ops.llm_fusion.quant_fp8.default
QUANT_STATIC = torch.ops.llm_fusion.quant_fp8_static.default
MATMUL = torch.ops.llm_fusion.matmul_fp8.default


def _weight_scales(w: torch.Tensor, mode: str):
    """The FP8 codes of a [N, K] weight and their scales for `mode`."""
    wf = w.float()
    n, k = wf.shape
    if mode == "fp8-block":
        nb, kb = (n + 127) // 128, (k + 127) // 128
        pad = torch.zeros(nb * 128, kb * 128)
        pad[:n, :k] = wf
        blocks = pad.reshape(nb, 128, kb, 128)
        scale = blocks.abs().amax((1, 3)).clamp(min=1e-10) / 448.0
        q = (blocks / scale[:, None, :, None]).reshape(nb * 128, kb * 128)[:n, :k].to(FP8)
        return q, scale
    if mode == "fp8-token":
        scale = wf.abs().amax(1).clamp(min=1e-10) / 448.0
        return (wf / scale[:, None]).to(FP8), scale
    scale = wf.abs().amax().clamp(min=1e-10) / 448.0
    return (wf / scale).to(FP8), scale


class QuantCache:
    """One quantization per activation tensor within a forward: linears that
    read the same tensor (q/k/v, gate/up) share it."""

    def __init__(self):
        self.entries = {}

    def get(self, x, make):
        key = id(x)
        hit = self.entries.get(key)
        if hit is None or hit[0] is not x:
            hit = (x, make())
            self.entries[key] = hit
        return hit[1]


class Fp8Linear(torch.nn.Module):
    """nn.Linear (or a tensor-parallel row-wise shard, tp.RowwiseLinear) on
    FP8 operands; a row-wise shard's partial product is all-reduced before
    the bias, as the shard did."""

    def __init__(self, linear: torch.nn.Module, mode: str, cache: QuantCache,
                 static_scale: float = 1.0):
        super().__init__()
        q, s = _weight_scales(linear.weight.data, mode)
        self.register_buffer("weight_fp8", q)
        self.register_buffer("weight_scale", s.float())
        self.bias = linear.bias
        self.reduce = bool(getattr(linear, "reduce", False))
        self.mode, self.cache = mode, cache
        self.register_buffer("input_scale", torch.tensor(float(static_scale)))

    def forward(self, x):
        if self.mode == "fp8-static":
            q = self.cache.get(x, lambda: quant_fp8_static(x, self.input_scale))
            xs = self.input_scale
        else:
            group = 128 if self.mode == "fp8-block" else x.shape[-1]
            q, xs = self.cache.get(x, lambda: quant_fp8(x, group))
        y = matmul_fp8(q, xs, self.weight_fp8, self.weight_scale, x.dtype)
        if self.reduce:
            from .regions import all_reduce
            y = all_reduce(y)
        return y if self.bias is None else y + self.bias


def quantizable(name: str, m: torch.nn.Module) -> bool:
    """The linears FP8 checkpoints quantize: K a multiple of 128 (whole
    groups), N a multiple of 16 (the last weight block may be partial, as
    DeepSeek-V3's kv_a_proj_with_mqa is); routers, 1-wide gates and small
    projections stay in bf16."""
    from .tp import RowwiseLinear
    if not isinstance(m, (torch.nn.Linear, RowwiseLinear)):
        return False
    n, k = m.weight.shape
    return k % 128 == 0 and n % 16 == 0


def quantize_layer(layer: torch.nn.Module, mode: str, input_scale=None) -> list:
    """Replaces the quantizable linears of `layer` in place; returns their
    names. `input_scale(name)` gives a static mode's input scale."""
    if mode not in MODES:
        raise ValueError(f"unknown quantization '{mode}' (one of {', '.join(MODES)})")
    cache = QuantCache()
    done = []
    for name, m in list(layer.named_modules()):
        if not quantizable(name, m):
            continue
        parent_name, _, leaf = name.rpartition(".")
        parent = layer.get_submodule(parent_name) if parent_name else layer
        scale = input_scale(name) if input_scale else 1.0
        setattr(parent, leaf, Fp8Linear(m, mode, cache, scale))
        done.append(name)
    return done


def quantize_input(x: torch.Tensor, mode: str, static_scale: torch.Tensor | None = None):
    """What the next FP8 linear does to `x` first: its codes and scales."""
    if mode == "fp8-static":
        return quant_fp8_static(x, static_scale), static_scale
    return quant_fp8(x, 128 if mode == "fp8-block" else x.shape[-1])


def calibrate(layer: torch.nn.Module, run):
    """Static input scales: each quantizable linear's input amax / 448 while
    `run()` runs the layer in eager mode (PyTorch's own values). Returns the
    scales and what `run()` returned."""
    amax, hooks = {}, []
    for name, m in layer.named_modules():
        if quantizable(name, m):
            hooks.append(m.register_forward_hook(
                lambda mod, inp, out, name=name: amax.__setitem__(
                    name, max(amax.get(name, 0.0), inp[0].float().abs().max().item()))))
    with torch.no_grad():
        result = run()
    for h in hooks:
        h.remove()
    return {k: max(v, 1e-10) / 448.0 for k, v in amax.items()}, result
