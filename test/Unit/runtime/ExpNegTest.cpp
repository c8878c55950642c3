//===- ExpNegTest.cpp - the shared f32 exp(-x) ------------------------------===//

#include "common/ExpNeg.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>

TEST_CASE("expNegF is within 1 ulp of exp(-x) and exact at the edges", "[runtime][math]") {
  double worst = 0.0;
  // A stride through every f32 bit pattern (positive and negative).
  for (uint64_t bits = 0; bits < (1ull << 32); bits += 4099) {
    uint32_t b = static_cast<uint32_t>(bits);
    float x;
    std::memcpy(&x, &b, 4);
    if (std::isnan(x))
      continue;
    double ref = std::exp(-static_cast<double>(x));
    if (ref > 3.4e38 || ref < 1.2e-38) // overflow or subnormal results
      continue;
    double ulp = std::ldexp(1.0, std::ilogb(ref) - 23);
    worst = std::max(worst, std::fabs(llmf::expNegF(x) - ref) / ulp);
  }
  CHECK(worst < 1.0);
  CHECK(llmf::expNegF(0.0f) == 1.0f);
  CHECK(llmf::expNegF(INFINITY) == 0.0f);
  CHECK(llmf::expNegF(-INFINITY) == INFINITY);
  CHECK(llmf::expNegF(-100.0f) == INFINITY);
  CHECK(llmf::expNegF(200.0f) == 0.0f);
  CHECK(std::isnan(llmf::expNegF(NAN)));
}
