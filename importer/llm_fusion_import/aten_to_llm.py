"""An exported ATen graph, written as an llm-dialect module (generic form).

Every value keeps its PyTorch name (`%mul_1`); types come from the FakeTensor
metadata, with every symbolic dim written `?`. PyTorch promotes types
implicitly (a bf16 tensor times an f32 one is f32); the llm dialect does not,
so the writer inserts the casts PyTorch would make. Anything it cannot write
is an `UnsupportedOp` naming the ATen op and the source line it came from.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field

import torch

from . import quant, regions

_DTYPES = {
    torch.float32: "f32",
    torch.float16: "f16",
    torch.bfloat16: "bf16",
    torch.float8_e4m3fn: "f8E4M3FN",
    torch.int32: "i32",
    torch.int64: "i64",
}

aten = torch.ops.aten


class ImportError_(Exception):
    """Something in the model the importer cannot express."""


class UnsupportedOp(ImportError_):
    """An ATen op without a translation, with where it came from."""


def _where(node) -> str:
    trace = node.meta.get("stack_trace") or ""
    lines = [l.strip() for l in trace.strip().splitlines() if l.strip().startswith("File")]
    return lines[-1] if lines else "(no source line recorded)"


def _elt(dtype) -> str:
    if dtype not in _DTYPES:
        raise ImportError_(f"element type {dtype} has no llm equivalent")
    return _DTYPES[dtype]


def _tensor_type(val, elt: str | None = None) -> str:
    dims = ["?" if not isinstance(d, int) else str(d) for d in val.shape]
    return "tensor<" + "".join(d + "x" for d in dims) + (elt or _elt(val.dtype)) + ">"


def _elt_of(ty: str) -> str:
    body = ty[len("tensor<"):-1]
    return body[body.rfind("x") + 1:] if "x" in body else body


def _last_dim(node, dim) -> None:
    rank = node.args[0].meta["val"].dim()
    if dim % rank != rank - 1:
        raise UnsupportedOp(f"{node.target} along dim {dim} of {rank} (only the last) at "
                            f"{_where(node)}")


# Ops written one for one: ATen op -> llm op, no attributes.
_UNARY = {
    aten.rsqrt.default: "rsqrt", aten.sigmoid.default: "sigmoid", aten.silu.default: "silu",
    aten.relu.default: "relu", aten.exp.default: "exp", aten.neg.default: "neg",
}
# Ops the importer skips: shape arithmetic on symbolic sizes (types carry it).
_SHAPE_ARITH = {aten.sym_size.int, operator.mul, operator.add, operator.sub,
                operator.floordiv, aten._assert_tensor_metadata.default}


def _float_text(v: float) -> str:
    """A float literal MLIR parses (it needs the decimal point)."""
    return f"{float(v):.9e}"


def _float_attr(v: float) -> str:
    if math.isnan(v):
        return "0x7FC00000 : f32"
    if math.isinf(v):
        return ("0x7F800000" if v > 0 else "0xFF800000") + " : f32"
    return f"{_float_text(v)} : f32"


@dataclass
class _Writer:
    lines: list = field(default_factory=list)
    types: dict = field(default_factory=dict)
    dtypes: dict = field(default_factory=dict)
    counter: int = 0

    def fresh(self, hint: str) -> str:
        self.counter += 1
        return f"%_{hint}{self.counter}"

    def op(self, name, operands, attrs, result_type, result=None, hint="v"):
        result = result or self.fresh(hint)
        attr_text = " {" + ", ".join(attrs) + "}" if attrs else ""
        operand_types = ", ".join(self.types[o] for o in operands)
        self.lines.append(
            f"  {result} = \"llm.{name}\"({', '.join(operands)}){attr_text} : "
            f"({operand_types}) -> {result_type}")
        self.types[result] = result_type
        return result

    def constant(self, value: float, elt: str) -> str:
        if elt.startswith("i"):
            text = str(int(value))
        elif math.isnan(value) or math.isinf(value):
            text = {float("inf"): "0x7F800000", float("-inf"): "0xFF800000"}.get(value, "0x7FC00000")
            if elt != "f32":
                raise ImportError_(f"a non-finite {elt} scalar cannot be written")
        else:
            text = _float_text(value)
        ty = f"tensor<{elt}>"
        return self.op("constant", [], [f"value = dense<{text}> : {ty}"], ty, hint="cst")

    def cast_to(self, value: str, elt: str) -> str:
        ty = self.types[value]
        current = _elt_of(ty)
        if current == elt:
            return value
        new_ty = ty[: len(ty) - len(current) - 1] + elt + ">"
        return self.op("cast", [value], [], new_ty, hint="promote")


def to_llm_module(program: torch.export.ExportedProgram, name: str = "piece",
                  world_size: int = 1) -> tuple[str, list[str]]:
    """The module text of the whole program and the kind of each argument
    ("parameter:fqn" or "user_input:name"), in argument order."""
    graph = program.graph
    sig = {s.arg.name: s for s in program.graph_signature.input_specs}
    placeholders = [n for n in graph.nodes if n.op == "placeholder"]
    body = [n for n in graph.nodes if n.op == "call_function"]
    outputs = list(graph.output_node().args[0])
    kinds = []
    for n in placeholders:
        spec = sig.get(n.name)
        kind = spec.kind.name.lower() if spec else "user_input"
        kinds.append(f"parameter:{spec.target}" if kind == "parameter" else f"{kind}:{n.name}")
    text = to_llm_function(name, placeholders, body, outputs)
    return _wrap(text, world_size), kinds


def _wrap(functions: str, world_size: int) -> str:
    if world_size != 1:
        return (f"module attributes {{llm.world_size = {world_size} : i64}} {{\n"
                + functions + "}\n")
    return functions


def to_llm_function(name: str, inputs: list, body: list, outputs: list) -> str:
    """One `func.func` from fx nodes: `inputs` become the arguments (in
    order), `body` the ops (in order), `outputs` the results."""
    w = _Writer()
    value = {}
    args = []

    def operand(a, like_elt=None):
        if isinstance(a, torch.fx.Node):
            return value[a.name]
        if isinstance(a, (int, float)) and like_elt is not None:
            return w.constant(a, like_elt)
        raise ImportError_(f"operand {a!r} is not a tensor or a scalar")

    for node in inputs:
        ssa = "%" + node.name
        w.types[ssa] = _tensor_type(node.meta["val"])
        value[node.name] = ssa
        args.append(f"{ssa}: {w.types[ssa]}")
    multi = {}  # node name -> its results, for getitem
    # A tensor built in place (new_empty, then copy_ into slices of one dim,
    # functionalized as slice_scatter): its parts until they cover the dim,
    # then one concat. `slots` are the slices written into.
    building, slots = {}, {}
    for node in body:
        target = node.target
        val = node.meta.get("val")
        if target in _SHAPE_ARITH:
            continue
        if target == aten.new_empty.default:
            building[node.name] = []
            continue
        if target == aten.slice.Tensor and node.args[0].name in building:
            slots[node.name] = node
            continue
        if target == aten.copy.default and node.args[0].name in slots:
            src = operand(node.args[1])
            ty = _tensor_type(val)
            value[node.name] = src if w.types[src] == ty else w.op("broadcast", [src], [], ty)
            continue
        if target == aten.slice_scatter.default and node.args[0].name in building:
            base, src, dim, start, end = node.args[:5]
            extent = val.shape[dim]
            end = min(end, extent)
            parts = sorted(building[base.name] + [(start, end, operand(src))])
            covered = 0
            for s0, e0, _ in parts:
                covered = e0 if s0 == covered else -1
            if covered == extent:
                value[node.name] = w.op("concat", [p[2] for p in parts],
                                        [f"dim = {dim % val.dim()} : i64"], _tensor_type(val),
                                        "%" + node.name)
            else:
                building[node.name] = parts
            continue
        if target == operator.getitem:
            src, i = node.args
            if src.name not in multi:
                raise UnsupportedOp(f"getitem of {src.target} at {_where(node)}")
            value[node.name] = multi[src.name][i]
            continue
        is_bool = isinstance(val, torch.Tensor) and val.dtype == torch.bool
        res_ty = _tensor_type(val) if isinstance(val, torch.Tensor) and not is_bool else None
        if is_bool:
            # A mask keeps the element type of the tensor it came from.
            src = next(a for a in node.all_input_nodes if a.name in value)
            res_ty = _tensor_type(val, _elt_of(w.types[value[src.name]]))
        res_elt = _elt_of(res_ty) if res_ty else None
        ssa = "%" + node.name
        if target in (aten._to_copy.default, aten.type_as.default):
            x = operand(node.args[0])
            if is_bool:
                # A mask: 1 or 0 in x's type (the dialect has no i1).
                zero = w.constant(0, res_elt)
                value[node.name] = w.op("ne", [x, zero], [], res_ty, ssa)
            else:
                value[node.name] = w.op("cast", [x], [], res_ty, ssa)
        elif target == aten.bitwise_not.default:
            m = operand(node.args[0])
            if not is_bool:
                raise UnsupportedOp(f"bitwise_not of a non-bool tensor at {_where(node)}")
            zero = w.constant(0, _elt_of(w.types[m]))
            value[node.name] = w.op("eq", [m, zero], [], w.types[m], ssa)
        elif target == aten.masked_fill.Scalar:
            x, m = operand(node.args[0]), operand(node.args[1])
            fill = w.constant(float(node.args[2]), res_elt)
            value[node.name] = w.op("select", [m, fill, x], [], res_ty, ssa)
        elif target in (aten.add.Tensor, aten.sub.Tensor, aten.mul.Tensor, aten.div.Tensor):
            if node.kwargs.get("alpha", 1) != 1 or len(node.args) > 2 or node.kwargs.get(
                    "rounding_mode") is not None:
                raise UnsupportedOp(f"{target} with alpha or rounding at {_where(node)}")
            opname = {aten.add.Tensor: "add", aten.sub.Tensor: "sub",
                      aten.mul.Tensor: "mul", aten.div.Tensor: "div"}[target]
            a = w.cast_to(operand(node.args[0], res_elt), res_elt)
            b = w.cast_to(operand(node.args[1], res_elt), res_elt)
            value[node.name] = w.op(opname, [a, b], [], res_ty, ssa)
        elif target == aten.pow.Tensor_Scalar:
            x = w.cast_to(operand(node.args[0]), res_elt)
            value[node.name] = w.op("pow", [x], [f"exponent = {_float_attr(node.args[1])}"],
                                    res_ty, ssa)
        elif target in (aten.mean.dim, aten.sum.dim_IntList):
            dims = node.args[1]
            if dims is None or len(dims) != 1:
                raise UnsupportedOp(f"{target} over {dims} (one dim only) at {_where(node)}")
            keep = node.args[2] if len(node.args) > 2 else node.kwargs.get("keepdim", False)
            if node.kwargs.get("dtype") is not None:
                raise UnsupportedOp(f"{target} with a dtype at {_where(node)}")
            attrs = [f"dim = {int(dims[0])} : i64"] + (["keepdim = true"] if keep else [])
            reduce = "mean" if target == aten.mean.dim else "sum"
            value[node.name] = w.op(reduce, [operand(node.args[0])], attrs, res_ty, ssa)
        elif target in _UNARY:
            x = w.cast_to(operand(node.args[0]), res_elt)
            value[node.name] = w.op(_UNARY[target], [x], [], res_ty, ssa)
        elif target == aten.gelu.default:
            approx = node.kwargs.get("approximate", node.args[1] if len(node.args) > 1 else "none")
            gelu = {"none": "gelu", "tanh": "gelu_tanh"}[approx]
            value[node.name] = w.op(gelu, [operand(node.args[0])], [], res_ty, ssa)
        elif target == aten.softplus.default:
            beta = node.args[1] if len(node.args) > 1 else node.kwargs.get("beta", 1)
            threshold = node.args[2] if len(node.args) > 2 else node.kwargs.get("threshold", 20)
            if beta != 1 or threshold != 20:
                raise UnsupportedOp(f"softplus with beta {beta}, threshold {threshold} at "
                                    f"{_where(node)}")
            value[node.name] = w.op("softplus", [operand(node.args[0])], [], res_ty, ssa)
        elif target in (aten.softmax.int, aten._softmax.default):
            x = w.cast_to(operand(node.args[0]), res_elt)
            value[node.name] = w.op("softmax", [x], [f"dim = {int(node.args[1])} : i64"],
                                    res_ty, ssa)
        elif target == aten.topk.default:
            x, k = operand(node.args[0]), int(node.args[1])
            dim = node.args[2] if len(node.args) > 2 else node.kwargs.get("dim", -1)
            largest = node.args[3] if len(node.args) > 3 else node.kwargs.get("largest", True)
            _last_dim(node, dim)
            if not largest:
                raise UnsupportedOp(f"topk of the smallest at {_where(node)}")
            vals_ty = _tensor_type(val[0])
            idx_ty = _tensor_type(val[1], "i32")  # the dialect's indices are i32
            vals, idx = w.fresh("topk_values"), w.fresh("topk_indices")
            w.lines.append(f"  {vals}, {idx} = \"llm.topk\"({x}) {{k = {k} : i64}} : "
                           f"({w.types[x]}) -> ({vals_ty}, {idx_ty})")
            w.types[vals], w.types[idx] = vals_ty, idx_ty
            multi[node.name] = [vals, idx]
        elif target == aten.gather.default:
            _last_dim(node, node.args[1])
            x, idx = operand(node.args[0]), operand(node.args[2])
            value[node.name] = w.op("gather", [x, idx], [], res_ty, ssa)
        elif target in (aten.zeros_like.default, aten.ones_like.default,
                        aten.full_like.default):
            fill = {aten.zeros_like.default: 0.0, aten.ones_like.default: 1.0}.get(
                target, node.args[1] if len(node.args) > 1 else None)
            value[node.name] = w.op("full_like", [operand(node.args[0])],
                                    [f"value = {_float_attr(float(fill))}"], res_ty, ssa)
        elif target == aten.scatter.value:
            _last_dim(node, node.args[1])
            x, idx = operand(node.args[0]), operand(node.args[2])
            value[node.name] = w.op("scatter", [x, idx],
                                    [f"value = {_float_attr(float(node.args[3]))}"], res_ty, ssa)
        elif target == aten.expand.default:
            value[node.name] = w.op("broadcast", [operand(node.args[0])], [], res_ty, ssa)
        elif target == aten.linear.default:
            x, wt = operand(node.args[0]), operand(node.args[1])
            bias = node.args[2] if len(node.args) > 2 else None
            out = w.op("matmul", [x, wt], [], res_ty, None if bias is not None else ssa,
                       hint="linear")
            if bias is not None:
                out = w.op("add", [out, operand(bias)], [], res_ty, ssa)
            value[node.name] = out
        elif target in (aten.clone.default, aten.alias.default, aten.contiguous.default):
            value[node.name] = operand(node.args[0])
        elif target in (aten.transpose.int, aten.permute.default):
            rank = len(node.args[0].meta["val"].shape)
            if target == aten.transpose.int:
                a, b = (d % rank for d in node.args[1:3])
                perm = list(range(rank))
                perm[a], perm[b] = perm[b], perm[a]
            else:
                perm = [d % rank for d in node.args[1]]
            value[node.name] = w.op("transpose", [operand(node.args[0])],
                                    [f"permutation = array<i64: {', '.join(map(str, perm))}>"],
                                    res_ty, ssa)
        elif target == aten.slice.Tensor:
            src = node.args[0].meta["val"]
            dim = node.args[1] % src.dim() if len(node.args) > 1 else 0
            start = node.args[2] if len(node.args) > 2 and node.args[2] is not None else 0
            end = node.args[3] if len(node.args) > 3 and node.args[3] is not None else None
            step = node.args[4] if len(node.args) > 4 else 1
            extent = src.shape[dim]
            if step != 1 or not isinstance(extent, int) or not isinstance(start, int):
                raise UnsupportedOp(f"{target} with step {step} or a dynamic dim at {_where(node)}")
            end = extent if end is None or (isinstance(end, int) and end > extent) else end
            if start < 0 or end < 0:
                start, end = start % extent, end % extent
            value[node.name] = w.op("slice", [operand(node.args[0])],
                                    [f"dim = {dim} : i64", f"start = {start} : i64",
                                     f"end = {end} : i64"], res_ty, ssa)
        elif target in (aten.split_with_sizes.default, aten.split.Tensor):
            src = node.args[0].meta["val"]
            dim = (node.args[2] if len(node.args) > 2 else node.kwargs.get("dim", 0)) % src.dim()
            extent = src.shape[dim]
            if target == aten.split.Tensor:
                size = node.args[1]
                if not isinstance(extent, int) or not isinstance(size, int):
                    raise UnsupportedOp(f"{target} of a dynamic dim at {_where(node)}")
                sizes = [min(size, extent - i) for i in range(0, extent, size)]
            else:
                sizes = [int(x) for x in node.args[1]]
            x = operand(node.args[0])
            outs = [w.fresh("split") for _ in sizes]
            tys = [_tensor_type(v) for v in val]
            w.lines.append(f"  {', '.join(outs)} = \"llm.split\"({x}) {{dim = {dim} : i64, "
                           f"sizes = array<i64: {', '.join(map(str, sizes))}>}} : "
                           f"({w.types[x]}) -> ({', '.join(tys)})")
            for o, t in zip(outs, tys):
                w.types[o] = t
            multi[node.name] = outs
        elif target == aten.cat.default:
            parts = [w.cast_to(operand(p), res_elt) for p in node.args[0]]
            dim = (node.args[1] if len(node.args) > 1 else 0) % val.dim()
            value[node.name] = w.op("concat", parts, [f"dim = {dim} : i64"], res_ty, ssa)
        elif target in (aten.unsqueeze.default, aten.squeeze.dim, aten.view.default,
                        aten._unsafe_view.default, aten.reshape.default):
            value[node.name] = w.op("reshape", [operand(node.args[0])], [], res_ty, ssa)
        elif target == quant.QUANT:
            x, group = operand(node.args[0]), int(node.args[1])
            q_ty, s_ty = _tensor_type(val[0]), _tensor_type(val[1])
            qv, sv = w.fresh("fp8"), w.fresh("fp8_scale")
            w.lines.append(f"  {qv}, {sv} = \"llm.quant_fp8\"({x}) {{group_size = {group} : i64}}"
                           f" : ({w.types[x]}) -> ({q_ty}, {s_ty})")
            w.types[qv], w.types[sv] = q_ty, s_ty
            multi[node.name] = [qv, sv]
        elif target == quant.QUANT_STATIC:
            value[node.name] = w.op("quant_fp8_static",
                                    [operand(node.args[0]), operand(node.args[1])], [], res_ty,
                                    ssa)
        elif target == quant.MATMUL:
            ops = [operand(a) for a in node.args[:4]]
            value[node.name] = w.op("matmul_fp8", ops, [], res_ty, ssa)
        elif target == regions.ALL_REDUCE:
            value[node.name] = w.op("all_reduce", [operand(node.args[0])], [], res_ty, ssa)
        else:
            raise UnsupportedOp(f"no llm translation of {target} at {_where(node)}")
    names = [value[o.name] for o in outputs]
    w.lines.append("  return " + ", ".join(names) + " : " + ", ".join(w.types[n] for n in names))
    header = f"func.func @{name}(" + ", ".join(args) + ") -> (" + \
        ", ".join(w.types[n] for n in names) + ") {"
    return "\n".join([header] + w.lines + ["}"]) + "\n"
