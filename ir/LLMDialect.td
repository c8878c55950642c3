//===- LLMDialect.td - the llm dialect ---------------------*- tablegen -*-===//
//
// The `llm` dialect: one rank's graph of transformer-layer ops, FX-like.
// The public contract (op names, operand order, attributes, semantics) is
// shared/spec/llm-dialect.md; this file must stay in step with it.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_DIALECT_TD
#define LLM_DIALECT_TD

include "mlir/IR/OpBase.td"

def LLM_Dialect : Dialect {
  let name = "llm";
  let cppNamespace = "::mlir::llm";
  let summary = "Graph-level ops of an LLM transformer layer, unfused and fused";
  let description = [{
    A model graph is a `func.func` with one block whose values are ranked
    tensors; every op is pure and value-semantic. Tensor parallelism is SPMD:
    the module attribute `llm.world_size = N : i64` gives the size of the
    tensor-parallel group (1 when absent).
  }];
  let hasOperationAttrVerify = 1;
  let hasConstantMaterializer = 1;
  let extraClassDeclaration = [{
    /// Name of the module attribute that holds the tensor-parallel group size.
    static constexpr ::llvm::StringLiteral kWorldSizeAttrName = "llm.world_size";

    /// World size of the module that encloses `op`: the `llm.world_size`
    /// attribute of the nearest enclosing module, 1 when absent.
    static int64_t getWorldSize(::mlir::Operation *op);
  }];
}

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

/// Floating-point element types arithmetic ops compute on.
def LLM_FloatElt : AnyTypeOf<[F32, F16, BF16]>;
/// Every element type a tensor of the dialect may hold.
def LLM_AnyElt : AnyTypeOf<[F32, F16, BF16, F8E4M3FN, I32, I64]>;
/// Element types elementwise arithmetic accepts (no fp8 arithmetic).
def LLM_ArithElt : AnyTypeOf<[F32, F16, BF16, I32, I64]>;

def LLM_Tensor : RankedTensorOf<[F32, F16, BF16, F8E4M3FN, I32, I64]>;
def LLM_FloatTensor : RankedTensorOf<[F32, F16, BF16]>;
def LLM_ArithTensor : RankedTensorOf<[F32, F16, BF16, I32, I64]>;
def LLM_F32Tensor : RankedTensorOf<[F32]>;
def LLM_FP8Tensor : RankedTensorOf<[F8E4M3FN]>;
def LLM_I32Tensor : RankedTensorOf<[I32]>;
def LLM_IndexTensor : RankedTensorOf<[I32, I64]>;

#endif // LLM_DIALECT_TD
