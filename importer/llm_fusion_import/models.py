"""The seven model families, from configs with random weights.

Each entry knows its transformers config and decoder-layer classes, a tiny
config with the model's real structure (heads, kv heads, q/k norms, Gemma
norms, experts and groups, linear attention) and the published sizes of one
layer. Nothing is loaded from a hub: configs are written here or read from
a local config.json, weights are random from a seed.

Opaque regions are installed on the layer before export (regions.py): the
MoE experts and Qwen3-Next's convolution and gated delta rule become one
node each, so the importer cuts there as it cuts at attention.
"""

from __future__ import annotations

import copy
import importlib
import inspect
from dataclasses import dataclass, field

import torch

from . import regions


@dataclass
class ModelSpec:
    name: str
    module: str          # transformers.models.<module>.modeling_<module>
    config_class: str
    prefix: str          # class-name prefix: <prefix>DecoderLayer, <prefix>RotaryEmbedding
    tiny: dict
    published: dict = field(default_factory=dict)
    # What the published layer drops to fit this machine (stated in reports).
    published_note: str = ""


_ATTN = dict(hidden_size=64, intermediate_size=128, num_attention_heads=4,
             num_key_value_heads=2, num_hidden_layers=1, vocab_size=128, rms_norm_eps=1e-6,
             max_position_embeddings=4096)

MODELS = {
    "llama": ModelSpec(
        "llama", "llama", "LlamaConfig", "Llama", dict(_ATTN),
        dict(hidden_size=4096, intermediate_size=14336, num_attention_heads=32,
             num_key_value_heads=8, rms_norm_eps=1e-5)),
    "qwen3": ModelSpec(
        "qwen3", "qwen3", "Qwen3Config", "Qwen3", dict(_ATTN, head_dim=16),
        dict(hidden_size=4096, intermediate_size=12288, num_attention_heads=32,
             num_key_value_heads=8, head_dim=128)),
    "gemma3": ModelSpec(
        "gemma3", "gemma3", "Gemma3TextConfig", "Gemma3",
        dict(_ATTN, head_dim=16, query_pre_attn_scalar=16, sliding_window=4,
             layer_types=["sliding_attention"]),
        dict(hidden_size=3840, intermediate_size=15360, num_attention_heads=16,
             num_key_value_heads=8, head_dim=256, query_pre_attn_scalar=256,
             sliding_window=1024)),
    "qwen3-moe": ModelSpec(
        "qwen3-moe", "qwen3_moe", "Qwen3MoeConfig", "Qwen3Moe",
        dict(_ATTN, head_dim=16, num_experts=8, num_experts_per_tok=2,
             moe_intermediate_size=32, norm_topk_prob=True),
        dict(hidden_size=4096, num_attention_heads=64, num_key_value_heads=4, head_dim=128,
             num_experts=16, num_experts_per_tok=8, moe_intermediate_size=1536),
        "Qwen3-235B-A22B's hidden size, heads and top-8 router over 16 of its 128 experts"),
    "deepseek-v3": ModelSpec(
        "deepseek-v3", "deepseek_v3", "DeepseekV3Config", "DeepseekV3",
        dict(_ATTN, num_key_value_heads=4, q_lora_rank=32, kv_lora_rank=16,
             qk_rope_head_dim=8, qk_nope_head_dim=16, v_head_dim=16, n_routed_experts=16,
             n_group=4, topk_group=2, num_experts_per_tok=4, moe_intermediate_size=32,
             first_k_dense_replace=0, n_shared_experts=1, routed_scaling_factor=2.5,
             norm_topk_prob=True),
        dict(hidden_size=7168, num_attention_heads=128, num_key_value_heads=128,
             q_lora_rank=1536, kv_lora_rank=512, qk_rope_head_dim=64, qk_nope_head_dim=128,
             v_head_dim=128, n_routed_experts=256, n_group=8, topk_group=4,
             num_experts_per_tok=8, moe_intermediate_size=256),
        "DeepSeek-V3's hidden size, MLA, router (256 experts, 8 groups) and shared expert; "
        "the routed experts' intermediate size cut from 2048 to 256 to fit"),
    "glm4-moe": ModelSpec(
        "glm4-moe", "glm4_moe", "Glm4MoeConfig", "Glm4Moe",
        dict(_ATTN, head_dim=16, use_qk_norm=True, partial_rotary_factor=0.5,
             n_routed_experts=16, n_group=1, topk_group=1, num_experts_per_tok=4,
             moe_intermediate_size=32, first_k_dense_replace=0, n_shared_experts=1,
             routed_scaling_factor=2.5, norm_topk_prob=True),
        dict(hidden_size=5120, num_attention_heads=96, num_key_value_heads=8, head_dim=128,
             n_routed_experts=160, num_experts_per_tok=8, moe_intermediate_size=192),
        "GLM-4.5's hidden size, heads, q/k norm and router (160 experts); the routed "
        "experts' intermediate size cut from 1536 to 192 to fit"),
    "qwen3-next": ModelSpec(
        "qwen3-next", "qwen3_next", "Qwen3NextConfig", "Qwen3Next",
        dict(_ATTN, head_dim=16, linear_num_value_heads=4, linear_num_key_heads=2,
             linear_key_head_dim=16, linear_value_head_dim=16, num_experts=8,
             num_experts_per_tok=2, moe_intermediate_size=32,
             shared_expert_intermediate_size=32, num_hidden_layers=2,
             layer_types=["linear_attention", "full_attention"]),
        dict(hidden_size=2048, num_attention_heads=16, num_key_value_heads=2, head_dim=256,
             linear_num_value_heads=32, linear_num_key_heads=16, linear_key_head_dim=128,
             linear_value_head_dim=128, num_experts=64, num_experts_per_tok=10,
             moe_intermediate_size=512, shared_expert_intermediate_size=512),
        "Qwen3-Next-80B-A3B's hidden size, attention and linear attention, top-10 router "
        "over 64 of its 512 experts"),
}


def modeling(spec: ModelSpec):
    return importlib.import_module(f"transformers.models.{spec.module}.modeling_{spec.module}")


# tiny-fp8: the tiny structure with every dim an FP8 checkpoint quantizes a
# multiple of 128 (FP8 GEMMs and 128-wide groups need it).
_FP8_TINY = dict(hidden_size=256, intermediate_size=512, moe_intermediate_size=128,
                 shared_expert_intermediate_size=128)
_FP8_TINY_MODEL = {
    "qwen3": dict(head_dim=64), "qwen3-moe": dict(head_dim=64), "gemma3": dict(head_dim=64),
    "glm4-moe": dict(head_dim=64), "llama": {},
    "deepseek-v3": dict(q_lora_rank=128, kv_lora_rank=128, qk_nope_head_dim=32,
                        qk_rope_head_dim=32, v_head_dim=64),
    "qwen3-next": dict(head_dim=64, linear_key_head_dim=64, linear_value_head_dim=128),
}


def config_for(model: str, size: str = "tiny", config_json: str | None = None):
    """The model's config: tiny (tests), tiny-fp8 (tiny with FP8-friendly
    dims), published (one layer at the published sizes), or read from a
    local config.json."""
    import transformers
    spec = MODELS[model]
    cls = getattr(transformers, spec.config_class)
    if config_json:
        return cls.from_json_file(config_json)
    kwargs = dict(spec.tiny)
    if size == "published":
        kwargs.update(spec.published)
        kwargs["max_position_embeddings"] = 4096
    elif size == "tiny-fp8":
        kwargs.update(_FP8_TINY)
        kwargs.update(_FP8_TINY_MODEL[model])
    elif size != "tiny":
        raise ValueError(f"unknown size '{size}' (tiny, tiny-fp8 or published)")
    return cls(**kwargs)


def layer_index(config, kind: str | None) -> int:
    """The first layer of `kind` (Qwen3-Next: linear_attention or
    full_attention), else layer 0."""
    types = getattr(config, "layer_types", None)
    if kind is None or not types:
        return 0
    if kind not in types:
        raise ValueError(f"no {kind} layer in {types}")
    return types.index(kind)


def _init_weights(layer: torch.nn.Module, seed: int) -> None:
    """Random weights with the statistics trained models have: norm weights
    near their neutral value (1, or 0 for Gemma-style `1 + w` norms), router
    biases small, everything else as transformers initializes it."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in list(layer.named_parameters()) + list(layer.named_buffers()):
            if not p.is_floating_point():
                continue
            if "norm" in name and name.endswith("weight"):
                zero_centered = bool((p == 0).all())  # Gemma, Qwen3-Next: (1 + w)
                base = -0.5 if zero_centered else 0.5
                p.copy_(base + torch.rand(p.shape, generator=gen))
            elif name.endswith("e_score_correction_bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            elif p.dim() >= 3 or (p.dim() == 2 and (p.abs().sum() == 0
                                                    or not torch.isfinite(p).all())):
                # Experts' 3-D weights start uninitialized (torch.empty) and
                # routers' at zero: a linear's scale, from the seed.
                p.copy_(torch.randn(p.shape, generator=gen) / p.shape[-1] ** 0.5)


def _install_regions(layer, spec: ModelSpec, tp: int, rank: int) -> None:
    """The MoE experts (rank `rank` of `tp` runs the experts e with
    e % tp == rank, an expert-parallel split whose partial outputs the
    all-reduce sums) and Qwen3-Next's convolution and delta rule become
    opaque regions."""
    mlp = getattr(layer, "mlp", None)
    experts = getattr(mlp, "experts", None)
    if experts is not None:
        def run_experts(h, ids, weights, experts=experts):
            if tp > 1:
                weights = weights * (ids % tp == rank).to(weights.dtype)
            return experts(h, ids, weights)

        region = regions.opaque("experts", run_experts, lambda h, ids, w: torch.empty_like(h))

        class OpaqueExperts(torch.nn.Module):
            def forward(self, h, ids, weights):
                return region(h, ids, weights)

        mlp.experts = OpaqueExperts()
    if getattr(layer, "linear_attn", None) is not None:
        _install_linear_attention_regions(spec)
    if getattr(getattr(layer, "self_attn", None), "config", None) is not None and getattr(
            layer.self_attn.config, "rope_interleave", False):
        _install_interleaved_rope_region(spec)


_PATCHED = {}


def _install_interleaved_rope_region(spec: ModelSpec) -> None:
    """DeepSeek's interleaved rotary embedding writes even and odd lanes
    through strided slices; engines run it as one rotary kernel, and so it
    is a region here (q and k each)."""
    mod = modeling(spec)
    key = spec.module + ":rope"
    if key in _PATCHED:
        return
    rope = mod.apply_rotary_pos_emb_interleave
    region = regions.opaque("rotary_interleaved",
                            lambda x, cos, sin: rope(x, x, cos, sin)[0].contiguous(),
                            lambda x, cos, sin: torch.empty_like(x))

    def patched(q, k, cos, sin, position_ids=None, unsqueeze_dim=1):
        assert unsqueeze_dim == 1
        return region(q, cos, sin), region(k, cos, sin)

    mod.apply_rotary_pos_emb_interleave = patched
    _PATCHED[key] = True


def _install_linear_attention_regions(spec: ModelSpec) -> None:
    mod = modeling(spec)
    if spec.module in _PATCHED:
        return
    conv, rule = mod.causal_conv1d_fn, mod.torch_chunk_gated_delta_rule
    conv_region = regions.opaque(
        "causal_conv1d", lambda x, w: conv(x, w, None, activation="silu"),
        lambda x, w: torch.empty_like(x))
    rule_region = regions.opaque(
        "gated_delta_rule",
        lambda q, k, v, g, beta: rule(q, k, v, g=g, beta=beta, initial_state=None,
                                      output_final_state=False,
                                      use_qk_l2norm_in_kernel=True)[0],
        lambda q, k, v, g, beta: torch.empty_like(v))

    def patched_conv(x, weight, bias=None, activation=None, **_):
        assert bias is None and activation == "silu"
        return conv_region(x, weight)

    def patched_rule(q, k, v, g=None, beta=None, **_):
        return rule_region(q, k, v, g, beta), None

    mod.causal_conv1d_fn = patched_conv
    mod.torch_chunk_gated_delta_rule = patched_rule
    _PATCHED[spec.module] = True


def decoder_layer(model: str, config, seed: int = 0, dtype=torch.bfloat16,
                  kind: str | None = None, tp: int = 1, rank: int = 0):
    """One decoder layer of `model` with random weights, its opaque regions
    installed, in `dtype`."""
    spec = MODELS[model]
    mod = modeling(spec)
    config._attn_implementation = "sdpa"
    torch.manual_seed(seed)
    layer = getattr(mod, f"{spec.prefix}DecoderLayer")(config, layer_idx=layer_index(config, kind))
    _init_weights(layer, seed)
    layer = layer.to(dtype).eval()
    _install_regions(layer, spec, tp, rank)
    return layer


class WholeLayer(torch.nn.Module):
    """A decoder layer with the rotary cos and sin as inputs (the model
    computes them once for all layers); attention runs through SDPA, where
    the importer cuts. With `next_norm`, the layer's output goes on into the
    next layer's input RMSNorm, as in the model: the last residual add
    feeds that norm (returned: the normed value and the residual)."""

    def __init__(self, layer, next_norm=None, quant=None, next_scale=None):
        super().__init__()
        self.layer = layer
        self.next_norm = next_norm
        self.quant = quant
        if next_scale is not None:
            self.register_buffer("next_input_scale", torch.tensor(float(next_scale)))

    def forward(self, hidden, cos, sin):
        out = self.layer(hidden, position_embeddings=(cos, sin), attention_mask=None)
        out = out[0] if isinstance(out, tuple) else out
        if self.next_norm is None:
            return out
        normed = self.next_norm(out)
        if self.quant:
            # In an FP8 model the next layer's first linear quantizes it.
            from .quant import quantize_input
            q, scale = quantize_input(normed, self.quant,
                                      getattr(self, "next_input_scale", None))
            return q, scale, out
        return normed, out


def _next_norm(layer, seed: int):
    """The next layer's input norm: the same class, its own random weight."""
    norm = copy.deepcopy(layer.input_layernorm)
    gen = torch.Generator().manual_seed(seed + 7)
    with torch.no_grad():
        w = norm.weight
        base = -0.5 if layer.input_layernorm.weight.float().mean() < 0.25 else 0.5
        w.copy_((base + torch.rand(w.shape, generator=gen)).to(w.dtype))
    return norm


def whole_layer(model: str, seed: int = 0, tokens: int = 5, dtype=torch.bfloat16,
                size: str = "tiny", kind: str | None = None, config=None,
                tp: int = 1, rank: int = 0, next_norm: bool = True, quant: str | None = None,
                tp_plan: str = "hf"):
    """A decoder layer (rank `rank` of `tp`, sharded as the config's
    base_model_tp_plan says) and its inputs: hidden [1, tokens, hidden],
    cos, sin."""
    from .tp import plan_for, shard
    spec = MODELS[model]
    config = config or config_for(model, size)
    layer = decoder_layer(model, config, seed=seed, dtype=dtype, kind=kind, tp=tp, rank=rank)
    norm = _next_norm(layer, seed) if next_norm else None
    shard(layer, plan_for(model, config, tp_plan), tp, rank)
    gen = torch.Generator().manual_seed(seed + 1)
    hidden = torch.randn(1, tokens, config.hidden_size, generator=gen).to(dtype)
    rotary = getattr(modeling(spec), f"{spec.prefix}RotaryEmbedding")(config)
    positions = torch.arange(tokens)[None]
    if "layer_type" in inspect.signature(rotary.forward).parameters:  # Gemma3
        cos, sin = rotary(hidden, positions, config.layer_types[layer_index(config, kind)])
    else:
        cos, sin = rotary(hidden, positions)
    inputs = (hidden, cos.to(dtype), sin.to(dtype))
    if not quant:
        return WholeLayer(layer, norm).eval(), inputs
    from . import quant as q
    scales, next_scale = {}, None
    if quant == "fp8-static":
        plain = WholeLayer(layer, norm).eval()
        scales, (normed, _) = q.calibrate(layer, lambda: plain(*inputs))
        next_scale = max(normed.float().abs().max().item(), 1e-10) / 448.0
    q.quantize_layer(layer, quant, lambda name: scales.get(name, 1.0))
    return WholeLayer(layer, norm, quant, next_scale).eval(), inputs
