//===- Mutator.h - structure-aware mutations of tool inputs -----*- C++ -*-===//
//
// Mutations a hostile user would make to a `.mlir` file, a plan or a `.npy`
// file: numbers replaced by boundary values (0, -1, 2^31, 2^60 + 1, 2^64 + 8,
// inf, NaN), element types and op names swapped, SSA uses redirected to other
// values (one value feeding two operands), lines dropped, duplicated or
// spliced in from another seed, and plain byte edits. Deterministic for a
// seed, so every finding reproduces.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_TOOLS_FUSION_FUZZ_MUTATOR_H
#define LLM_FUSION_TOOLS_FUSION_FUZZ_MUTATOR_H

#include <cstdint>
#include <string>
#include <vector>

namespace llmf::fuzz {

/// splitmix64: small and the same on every platform.
struct Rng {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, n); 0 when n is 0.
  uint64_t below(uint64_t n) { return n ? next() % n : 0; }
  bool chance(unsigned percent) { return below(100) < percent; }
  template <typename T> const T &pick(const std::vector<T> &v) { return v[below(v.size())]; }
};

/// Applies 1 to `maxMutations` mutations to `input`; `corpus` supplies lines
/// to splice in.
std::string mutate(const std::string &input, const std::vector<std::string> &corpus, Rng &rng,
                   unsigned maxMutations = 4);

} // namespace llmf::fuzz

#endif // LLM_FUSION_TOOLS_FUSION_FUZZ_MUTATOR_H
