//===- GraphGen.h - random valid graphs holding every fusable chain -*- C++ -*-===//
//
// A graph is a list of chains, each a seed and a kind: residual add + norm,
// all-reduce (+ add) + norm, gated norm + reshape + FP8 quant, the MoE router
// and the Q/K norms, plus plain elementwise distractors. Each chain draws its
// own dtypes, sizes, weight forms (plain, Gemma `cast(w) + 1`, `w + 1`) and
// distractors (an intermediate returned or used again, a weight of another
// dtype, mismatched epsilons, a group that straddles heads, one value
// feeding two operands, arguments shared with other chains). The module is
// written in the spec's generic form with every chain's ops interleaved in a
// random order that keeps def before use. A graph shrinks by dropping chains.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_TOOLS_FUSION_FUZZ_GRAPHGEN_H
#define LLM_FUSION_TOOLS_FUSION_FUZZ_GRAPHGEN_H

#include "tools/fusion-fuzz/Mutator.h"

#include <cstdint>
#include <string>
#include <vector>

namespace llmf::fuzz {

enum class ChainKind : uint8_t {
  AddNorm,
  AllReduceNorm,
  GatedQuant,
  Router,
  QKNorm,
  Plain,
  DecomposedNorm,
  NormQuant,
};
std::string_view chainKindName(ChainKind kind);

struct ChainSpec {
  ChainKind kind;
  uint64_t seed;
};

struct GraphSpec {
  int64_t worldSize = 1;
  /// The token dim: 0 is dynamic (`?`, bound to the run's --dim).
  int64_t tokens = 0;
  uint64_t orderSeed = 0, shareSeed = 0;
  std::vector<ChainSpec> chains;
};

/// A module and what checking it needs to know.
struct GeneratedGraph {
  std::string text;
  /// A 16-bit `w + 1` Gemma weight the pipeline may fold (a rounding the
  /// spec allows to drop): compare by the accuracy model, not bit for bit.
  bool needsAccuracy = false;
};

GraphSpec randomGraph(Rng &rng);
GeneratedGraph emitGraph(const GraphSpec &spec);

} // namespace llmf::fuzz

#endif // LLM_FUSION_TOOLS_FUSION_FUZZ_GRAPHGEN_H
