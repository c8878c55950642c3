"""Hand-cut pieces of Llama and Qwen3 layers (`--piece post-attention`,
`input-norm`): the post-attention residual add, norm and MLP, or the input
norm, as modules of their own. Whole layers, cut automatically at their
opaque regions, come from models.py and partition.py.
"""

from __future__ import annotations

import torch

from .models import config_for, decoder_layer

# The hand-cut pieces read Llama-style module names.
PRESETS = ("llama", "qwen3")


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
    if preset not in PRESETS:
        raise ValueError(f"piece '{name}' is cut from {' or '.join(PRESETS)}, not {preset}")
    layer = decoder_layer(preset, config_for(preset), seed=seed, dtype=dtype)
    cls, n_inputs = PIECES[name]
    hidden = layer.post_attention_layernorm.weight.shape[0]
    gen = torch.Generator().manual_seed(seed + 1)
    inputs = tuple(torch.randn(1, tokens, hidden, generator=gen).to(dtype) for _ in range(n_inputs))
    return cls(layer).eval(), inputs
