"""SGLang's fused Q/K Gemma RMSNorm Triton kernel as a peer of our Q/K norm.

The kernel itself is SGLang's (0.5.23, srt/models/utils.py), fetched by
prepare.sh into fetched/sglang_qk_kernel.py; this file only launches it:
one program per q row, the first k_rows programs also normalize a k row;
rows are read at pid * stride and written contiguously.

  fused_qk_gemma_rmsnorm_as_shipped: what SGLang's wrapper does, with the
    outputs preallocated (every variant writes the same buffers): reshape
    q and k to [-1, head_dim] first. On q and k sliced out of a fused qkv
    [T, (hq + 2 hk) * d] that reshape is a copy for T > 1 (such a view has
    no single per-head-row stride), so this times two copies + the kernel.
  launch_kernel: the kernel alone on rows one stride can address
    (contiguous [rows, d] q and k, made outside the timed region).
"""

import os
import sys

import torch
import triton

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "fetched"))
from sglang_qk_kernel import _fused_qk_gemma_rmsnorm_kernel  # noqa: E402


def launch_kernel(q_flat, k_flat, q_out, k_out, q_weight, k_weight, eps, head_dim):
    """The kernel on [q_rows, d] / [k_rows, d] row views (any row stride)."""
    grid = (q_flat.shape[0],)
    _fused_qk_gemma_rmsnorm_kernel[grid](
        q_flat, k_flat, q_out, k_out, q_weight, k_weight,
        q_flat.stride(0), k_flat.stride(0), k_flat.shape[0],
        HEAD_DIM=head_dim, BLOCK_HD=triton.next_power_of_2(head_dim), EPS=eps,
        FP16=q_flat.dtype == torch.float16)


def fused_qk_gemma_rmsnorm_as_shipped(q, k, q_weight, k_weight, eps, head_dim, q_out, k_out):
    """SGLang's wrapper's steps: reshape (a copy for strided q/k), then the kernel."""
    launch_kernel(q.reshape(-1, head_dim), k.reshape(-1, head_dim), q_out, k_out, q_weight,
                  k_weight, eps, head_dim)
    return q_out, k_out
