"""Cutting an exported layer into pieces at opaque regions.

Attention (scaled_dot_product_attention) is left to the engine's attention
kernel, as vLLM splits its graphs at attention: the graph is cut there, and
each stretch between cuts becomes a piece, one `func.func`, whose arguments
are the parameters and values it reads from outside and whose results are
the values read after it. PyTorch's values at every cut are recorded by
running the exported graph, so each piece can be checked on its own.
"""

from __future__ import annotations

import json
import os

import torch

from . import regions
from .aten_to_llm import _wrap, to_llm_function
from .export import _save

aten = torch.ops.aten

# Ops that stay outside the pieces: attention, and the regions models.py
# wraps (MoE experts, linear-attention convolution and delta rule, MLA's
# interleaved rotary embedding).
OPAQUE = {aten.scaled_dot_product_attention.default, regions.REGION}


def _flat_arguments(program: torch.export.ExportedProgram, user_inputs: tuple) -> list:
    sig = program.graph_signature
    state = {**program.state_dict, **program.constants}
    by_name = {s.arg.name: s for s in sig.input_specs}
    flat, it = [], iter(user_inputs)
    for n in program.graph.nodes:
        if n.op != "placeholder":
            continue
        spec = by_name[n.name]
        flat.append(state[spec.target] if spec.kind.name in ("PARAMETER", "BUFFER", "CONSTANT_TENSOR")
                    else next(it))
    return flat


def record_values(program: torch.export.ExportedProgram, user_inputs: tuple) -> dict:
    """Every node's value when the exported graph runs on `user_inputs`."""
    return record_ranks([program], user_inputs)[0]


def record_ranks(programs: list, user_inputs: tuple) -> list:
    """Every node's value on every rank: the ranks' graphs (one per rank,
    the same code on their shards) run in lockstep, and each
    `llm_fusion::all_reduce` gets the sum over the ranks (in fp32, rounded
    once to the tensor's type)."""
    nodes = [list(p.graph.nodes) for p in programs]
    if len({len(n) for n in nodes}) != 1:
        raise RuntimeError("the ranks' exported graphs differ in length")
    runners = []
    for p in programs:
        runner = torch.fx.Interpreter(p.graph_module)
        runner.args_iter = iter(_flat_arguments(p, user_inputs))
        runner.env = {}
        runners.append(runner)
    with torch.no_grad():
        for i in range(len(nodes[0])):
            step = [n[i] for n in nodes]
            if step[0].op == "output":
                break
            if step[0].op == "call_function" and step[0].target == regions.ALL_REDUCE:
                parts = [r.env[s.args[0]] for r, s in zip(runners, step)]
                total = torch.stack([t.float() for t in parts]).sum(0).to(parts[0].dtype)
                for r, s in zip(runners, step):
                    r.env[s] = total.clone()
                continue
            for r, s in zip(runners, step):
                r.env[s] = r.run_node(s)
    return [{n.name: v for n, v in r.env.items()} for r in runners]


def split(program: torch.export.ExportedProgram):
    """The pieces: (inputs, body, outputs) of fx nodes, in graph order."""
    graph = program.graph
    nodes = [n for n in graph.nodes if n.op == "call_function"]
    stretches, current = [], []
    for n in nodes:
        if n.target in OPAQUE:
            stretches.append(current)
            current = []
        else:
            current.append(n)
    stretches.append(current)
    pieces = []
    for body in stretches:
        inside = {n.name for n in body}
        inputs, outputs = [], []
        for n in body:
            for a in n.all_input_nodes:
                # Shape arithmetic (sym_size) is not a tensor: types carry it.
                if (a.name not in inside and a not in inputs
                        and isinstance(a.meta.get("val"), torch.Tensor)):
                    inputs.append(a)
        for n in body:
            if any(u.name not in inside for u in n.users) and n not in outputs:
                if n.meta.get("val") is not None and isinstance(n.meta["val"], torch.Tensor):
                    outputs.append(n)
        # The token dim must stay dynamic: a piece that only reads
        # placeholders keeps them in placeholder order.
        if body and outputs:
            pieces.append((inputs, body, outputs))
    return pieces


def piece_module(inputs: list, body: list, outputs: list) -> torch.fx.GraphModule:
    """The piece as PyTorch code: a GraphModule of the same aten (and
    llm_fusion) calls on the same arguments, returning the piece's results.
    bench/pieces times it eager and under torch.compile beside our plans.
    A size computed before the cut is read again off an argument with that
    dim; raises KeyError for any other value from outside the piece."""
    graph = torch.fx.Graph()
    env = {}
    for i, n in enumerate(inputs):
        env[n] = graph.placeholder(f"arg{i}")
        env[n].meta = dict(n.meta)

    def value(a):
        if a in env:
            return env[a]
        val = a.meta.get("val")
        if isinstance(val, torch.SymInt):
            for n in inputs:
                for d, size in enumerate(n.meta["val"].shape):
                    if isinstance(size, torch.SymInt) and size.node.expr == val.node.expr:
                        env[a] = graph.call_function(aten.sym_size.int, (env[n], d))
                        return env[a]
        raise KeyError(a.name)

    for n in body:
        env[n] = graph.node_copy(n, value)
    graph.output(tuple(env[n] for n in outputs))
    return torch.fx.GraphModule(torch.nn.Module(), graph)


def export_layer(module: torch.nn.Module, example_inputs: tuple, token_dim: int = 1):
    tokens = torch.export.Dim("T", min=2, max=1 << 20)
    dynamic = tuple({token_dim: tokens} for _ in example_inputs)
    with torch.no_grad():
        return torch.export.export(module.eval(), example_inputs, dynamic_shapes=dynamic,
                                   strict=False).run_decompositions({})


def import_layer(module, example_inputs: tuple, out_dir: str, name: str = "layer",
                 token_dim: int = 1, progress=print) -> list:
    """Exports a whole layer, cuts it at attention and the other opaque
    regions, and writes each piece as out_dir/pieceK/ (module.mlir,
    argI.npy, expectedI.npy, manifest.json) and all pieces as functions of
    out_dir/layer.mlir. `module` may be a list: one module per
    tensor-parallel rank (tp.py); the pieces then carry
    llm.world_size = N and per-rank files (rankR_argI.npy,
    rankR_expectedI.npy)."""
    os.makedirs(out_dir, exist_ok=True)
    ranks = module if isinstance(module, (list, tuple)) else [module]
    world = len(ranks)
    progress(f"fusion-import: exporting {type(ranks[0]).__name__} (torch.export, dynamic tokens"
             + (f", {world} ranks)" if world > 1 else ")"))
    programs = [export_layer(m, example_inputs, token_dim) for m in ranks]
    values = record_ranks(programs, example_inputs)
    program = programs[0]
    targets = {s.arg.name: s.target for s in program.graph_signature.input_specs
               if s.kind.name in ("PARAMETER", "BUFFER")}
    pieces = [split(p) for p in programs]
    cuts = sorted({regions.region_name(n) for n in program.graph.nodes
                   if n.op == "call_function" and n.target in OPAQUE})
    progress(f"fusion-import: {len(pieces[0])} pieces (cut at {', '.join(cuts) or 'nothing'})")
    functions, manifests = [], []
    for k, (inputs, body, outputs) in enumerate(pieces[0]):
        fname = f"{name}_piece{k}"
        text = to_llm_function(fname, inputs, body, outputs)
        functions.append(text)
        pdir = os.path.join(out_dir, f"piece{k}")
        os.makedirs(pdir, exist_ok=True)
        with open(os.path.join(pdir, "module.mlir"), "w") as f:
            f.write(_wrap(text, world))
        for r in range(world):
            prefix = f"rank{r}_" if world > 1 else ""
            r_inputs, _, r_outputs = pieces[r][k]
            for i, n in enumerate(r_inputs):
                _save(os.path.join(pdir, f"{prefix}arg{i}.npy"), values[r][n.name])
            for i, n in enumerate(r_outputs):
                _save(os.path.join(pdir, f"{prefix}expected{i}.npy"), values[r][n.name])
        manifest = {
            "function": fname, "module": "module.mlir", "world_size": world,
            "arguments": [f"parameter:{targets[n.name]}" if n.name in targets else f"value:{n.name}"
                          for n in inputs],
            "outputs": [f"expected{i}.npy" for i in range(len(outputs))],
            "output_names": [n.name for n in outputs],
            "output_dtypes": [str(values[0][n.name].dtype).replace("torch.", "") for n in outputs],
        }
        try:  # the piece as PyTorch code (torch.save keeps its source)
            torch.save(piece_module(inputs, body, outputs), os.path.join(pdir, "piece.pt"))
            manifest["torch_module"] = "piece.pt"
            manifest["torch_arg_dtypes"] = [str(n.meta["val"].dtype).replace("torch.", "")
                                            for n in inputs]
            # The arguments' memory order (a view after the cut may need it),
            # and their shapes with -1 for the token dim (random inputs at
            # any token count, for pieces staged without their .npy files).
            manifest["torch_arg_dim_orders"] = [list(n.meta["val"].dim_order()) for n in inputs]
            manifest["torch_arg_shapes"] = [[d if isinstance(d, int) else -1
                                             for d in n.meta["val"].shape] for n in inputs]
        except (KeyError, TypeError, AttributeError) as e:
            progress(f"fusion-import: piece{k} has no PyTorch module to time: {e!r}")
        with open(os.path.join(pdir, "manifest.json"), "w") as f:
            json.dump(manifest, f, indent=1)
        manifests.append(pdir)
    with open(os.path.join(out_dir, f"{name}.mlir"), "w") as f:
        f.write(_wrap("\n".join(functions), world))
    return manifests
