"""Pieces of transformers models, built from tiny configs with random weights.

A piece is what lies between two cuts: attention, the MoE experts and the
linear-attention core are opaque and cut out (as vLLM splits its graphs at
attention), so the RMSNorms, residual adds and MLPs that engines fuse land in
pieces. Here the pieces are written by hand from the model's own modules;
cutting a whole exported layer automatically is the next step (issue 13).
"""

from __future__ import annotations

import torch

PRESETS = ("llama", "qwen3")


def tiny_config(preset: str):
    from transformers import LlamaConfig, Qwen3Config
    common = dict(hidden_size=64, intermediate_size=128, num_attention_heads=4,
                  num_key_value_heads=2, num_hidden_layers=1, vocab_size=128, rms_norm_eps=1e-6)
    if preset == "llama":
        return LlamaConfig(**common)
    if preset == "qwen3":
        return Qwen3Config(head_dim=16, **common)
    raise ValueError(f"unknown preset '{preset}' (one of {', '.join(PRESETS)})")


def decoder_layer(preset: str, config=None, seed: int = 0, dtype=torch.bfloat16):
    """One decoder layer of `preset` with random weights (norm weights near 1,
    as trained models have them)."""
    torch.manual_seed(seed)
    config = config or tiny_config(preset)
    if preset == "llama":
        from transformers.models.llama.modeling_llama import LlamaDecoderLayer as Layer
    else:
        from transformers.models.qwen3.modeling_qwen3 import Qwen3DecoderLayer as Layer
    layer = Layer(config, layer_idx=0)
    with torch.no_grad():
        for name, p in layer.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(0.5 + torch.rand_like(p))
    return layer.to(dtype).eval()


class PostAttention(torch.nn.Module):
    """The piece after attention: the residual add, the post-attention
    RMSNorm, the MLP and the second residual add. Returns the layer's output
    and the residual the next layer reads."""

    def __init__(self, layer):
        super().__init__()
        self.post_attention_layernorm = layer.post_attention_layernorm
        self.mlp = layer.mlp

    def forward(self, attn_out, residual):
        residual = attn_out + residual
        hidden = self.mlp(self.post_attention_layernorm(residual))
        return hidden + residual, residual


class InputNorm(torch.nn.Module):
    """The piece before attention: the input RMSNorm of the layer."""

    def __init__(self, layer):
        super().__init__()
        self.input_layernorm = layer.input_layernorm

    def forward(self, hidden):
        return self.input_layernorm(hidden)


PIECES = {"post-attention": (PostAttention, 2), "input-norm": (InputNorm, 1)}


def piece(preset: str, name: str, seed: int = 0, tokens: int = 5, dtype=torch.bfloat16):
    """The module of piece `name` and example inputs [1, tokens, hidden]."""
    if name not in PIECES:
        raise ValueError(f"unknown piece '{name}' (one of {', '.join(PIECES)})")
    layer = decoder_layer(preset, seed=seed, dtype=dtype)
    cls, n_inputs = PIECES[name]
    hidden = layer.post_attention_layernorm.weight.shape[0]
    gen = torch.Generator().manual_seed(seed + 1)
    inputs = tuple(torch.randn(1, tokens, hidden, generator=gen).to(dtype) for _ in range(n_inputs))
    return cls(layer).eval(), inputs


class WholeLayer(torch.nn.Module):
    """A whole decoder layer, with the rotary cos and sin as inputs (as the
    model computes them once for all layers); attention runs through SDPA,
    where the importer cuts the layer (partition.py)."""

    def __init__(self, layer):
        super().__init__()
        self.layer = layer
        layer.self_attn.config._attn_implementation = "sdpa"

    def forward(self, hidden, cos, sin):
        out = self.layer(hidden, position_embeddings=(cos, sin), attention_mask=None)
        return out[0] if isinstance(out, tuple) else out


def whole_layer(preset: str, seed: int = 0, tokens: int = 5, dtype=torch.bfloat16):
    """A decoder layer and its inputs: hidden [1, tokens, hidden], cos, sin."""
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding
    config = tiny_config(preset)
    layer = decoder_layer(preset, config, seed=seed, dtype=dtype)
    gen = torch.Generator().manual_seed(seed + 1)
    hidden = torch.randn(1, tokens, config.hidden_size, generator=gen).to(dtype)
    cos, sin = LlamaRotaryEmbedding(config)(hidden, torch.arange(tokens)[None])
    return WholeLayer(layer).eval(), (hidden, cos.to(dtype), sin.to(dtype))
