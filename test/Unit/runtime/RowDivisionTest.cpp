//===- RowDivisionTest.cpp - the kernels' multiply-high row division ------===//

#include "common/RowDivision.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

namespace {

/// Checks n / d for n near every multiple of d that a sample reaches, plus
/// the ends of the range: an off-by-one magic shows first just below a
/// multiple, where the quotient steps.
uint64_t checkDivisor(uint32_t d) {
  llmf::RowDivision div = llmf::RowDivision::make(d);
  const uint32_t limit = 0x7fffffffu;
  uint64_t wrong = 0;
  auto check = [&](uint32_t n) {
    if (n <= limit && div.divide(n) != n / d)
      ++wrong;
  };
  for (uint32_t n : {0u, 1u, d - 1, d, d + 1, limit - 1, limit})
    check(n);
  uint64_t step = std::max<uint64_t>(1, (uint64_t(limit) / d) / 4096);
  for (uint64_t q = 1; q * d <= limit; q += step)
    for (int delta : {-1, 0, 1})
      check(uint32_t(q * d + delta));
  return wrong;
}

} // namespace

TEST_CASE("row division by multiply-high is exact for every row index", "[runtime][math]") {
  std::vector<uint32_t> divisors;
  for (uint32_t d = 1; d <= 1024; ++d) // every head count a model has, and more
    divisors.push_back(d);
  for (uint32_t d : {1025u, 4095u, 4097u, 65535u, 65536u, 65537u, 1000003u, 0x40000001u,
                     0x7ffffffeu, 0x7fffffffu})
    divisors.push_back(d);
  uint64_t wrong = 0;
  for (uint32_t d : divisors)
    wrong += checkDivisor(d);
  CHECK(wrong == 0);
  // Powers of two reduce to a plain shift.
  CHECK(llmf::RowDivision::make(32).magic == 0);
  CHECK(llmf::RowDivision::make(32).shift == 5);
  // A divisor whose magic needs all 33 bits (7: m = 2^32 + 0x24924925).
  llmf::RowDivision seven = llmf::RowDivision::make(7);
  CHECK(seven.magic == 0x24924925u);
  CHECK(seven.divide(0x7fffffffu) == 0x7fffffffu / 7);
}
