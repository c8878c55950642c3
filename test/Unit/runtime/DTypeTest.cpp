//===- DTypeTest.cpp - exact rounding to bf16, f16 and fp8 e4m3fn ---------===//
//
// Every narrow float code must decode and re-encode to itself, and rounding
// must be nearest-even with the spec's saturation for fp8. A wrong rounding
// mode here would make every GPU check downstream compare against a lie.
//
//===----------------------------------------------------------------------===//

#include "runtime/DType.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

using namespace llmf;

TEST_CASE("dtype names round-trip and sizes are right", "[dtype]") {
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::F8E4M3FN,
                  DType::I32, DType::I64}) {
    auto parsed = parseDType(dtypeName(t));
    REQUIRE(parsed.has_value());
    CHECK(*parsed == t);
  }
  CHECK_FALSE(parseDType("f64").has_value());
  CHECK_FALSE(parseDType("BF16").has_value());
  CHECK(dtypeSize(DType::BF16) == 2);
  CHECK(dtypeSize(DType::F8E4M3FN) == 1);
  CHECK(dtypeSize(DType::I64) == 8);
  CHECK_FALSE(isFloat(DType::I32));
}

TEST_CASE("bf16: every code round-trips, rounding is nearest-even", "[dtype]") {
  for (uint32_t code = 0; code < 0x10000; ++code) {
    float x = bf16BitsToFloat(static_cast<uint16_t>(code));
    if (std::isnan(x)) {
      CHECK(std::isnan(bf16BitsToFloat(floatToBF16Bits(x))));
      continue;
    }
    REQUIRE(floatToBF16Bits(x) == code);
  }
  CHECK(floatToBF16Bits(1.0f) == 0x3f80);
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to the even code 1.0.
  CHECK(floatToBF16Bits(1.0f + std::ldexp(1.0f, -8)) == 0x3f80);
  // 1 + 3 * 2^-8 is halfway between two codes; the even one is 1 + 2^-6.
  CHECK(bf16BitsToFloat(floatToBF16Bits(1.0f + 3 * std::ldexp(1.0f, -8))) ==
        1.0f + std::ldexp(1.0f, -6));
  CHECK(std::isinf(bf16BitsToFloat(floatToBF16Bits(3.4e38f))));
}

TEST_CASE("f16: every code round-trips, overflow and subnormals", "[dtype]") {
  for (uint32_t code = 0; code < 0x10000; ++code) {
    float x = f16BitsToFloat(static_cast<uint16_t>(code));
    if (std::isnan(x)) {
      CHECK(std::isnan(f16BitsToFloat(floatToF16Bits(x))));
      continue;
    }
    REQUIRE(floatToF16Bits(x) == code);
  }
  CHECK(floatToF16Bits(1.0f) == 0x3c00);
  CHECK(floatToF16Bits(65504.0f) == 0x7bff);
  CHECK(floatToF16Bits(65519.0f) == 0x7bff); // below the halfway point
  CHECK(floatToF16Bits(65520.0f) == 0x7c00); // halfway ties up to inf
  CHECK(floatToF16Bits(-INFINITY) == 0xfc00);
  CHECK(floatToF16Bits(std::ldexp(1.0f, -24)) == 0x0001); // smallest subnormal
  CHECK(floatToF16Bits(std::ldexp(1.0f, -25)) == 0x0000); // tie to even: 0
  CHECK(floatToF16Bits(3 * std::ldexp(1.0f, -25)) == 0x0002);
}

TEST_CASE("fp8 e4m3fn: round-trip, nearest-even, saturation at 448", "[dtype]") {
  for (uint32_t code = 0; code < 0x100; ++code) {
    float x = f8E4M3FNBitsToFloat(static_cast<uint8_t>(code));
    if (std::isnan(x)) {
      CHECK((code & 0x7f) == 0x7f);
      continue;
    }
    REQUIRE(floatToF8E4M3FNBits(x) == code);
  }
  CHECK(f8E4M3FNBitsToFloat(0x7e) == 448.0f);
  CHECK(f8E4M3FNBitsToFloat(0x08) == std::ldexp(1.0f, -6)); // min normal
  CHECK(f8E4M3FNBitsToFloat(0x01) == std::ldexp(1.0f, -9)); // min subnormal
  CHECK(floatToF8E4M3FNBits(448.0f) == 0x7e);
  CHECK(floatToF8E4M3FNBits(460.0f) == 0x7e);
  CHECK(floatToF8E4M3FNBits(1e6f) == 0x7e);
  CHECK(floatToF8E4M3FNBits(INFINITY) == 0x7e);
  CHECK(floatToF8E4M3FNBits(-INFINITY) == 0xfe);
  CHECK(floatToF8E4M3FNBits(-500.0f) == 0xfe);
  CHECK(floatToF8E4M3FNBits(NAN) == 0x7f);
  // 1.0625 is halfway between 1.0 and 1.125: ties to the even mantissa (1.0).
  CHECK(floatToF8E4M3FNBits(1.0625f) == 0x38);
  // 1.1875 is halfway between 1.125 and 1.25: ties to 1.25 (even mantissa 2).
  CHECK(f8E4M3FNBitsToFloat(floatToF8E4M3FNBits(1.1875f)) == 1.25f);
  CHECK(floatToF8E4M3FNBits(std::ldexp(1.0f, -10)) == 0x00); // tie to 0
  CHECK(floatToF8E4M3FNBits(3 * std::ldexp(1.0f, -10)) == 0x02);
  CHECK(floatToF8E4M3FNBits(-0.0f) == 0x80);
}

TEST_CASE("roundTo agrees with the bit conversions", "[dtype]") {
  for (float x : {0.1f, -3.14159f, 1000.5f, 1e-5f, 65000.0f}) {
    CHECK(roundTo(DType::F32, x) == x);
    CHECK(roundTo(DType::BF16, x) == bf16BitsToFloat(floatToBF16Bits(x)));
    CHECK(roundTo(DType::F16, x) == f16BitsToFloat(floatToF16Bits(x)));
    CHECK(roundTo(DType::F8E4M3FN, x) ==
          f8E4M3FNBitsToFloat(floatToF8E4M3FNBits(x)));
  }
}
