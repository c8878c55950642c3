//===- DType.cpp - element types and their exact rounding -----------------===//

#include "runtime/DType.h"

#include <cassert>
#include <cmath>
#include <cstring>

namespace llmf {

std::string_view dtypeName(DType t) {
  switch (t) {
  case DType::F32: return "f32";
  case DType::F16: return "f16";
  case DType::BF16: return "bf16";
  case DType::F8E4M3FN: return "f8E4M3FN";
  case DType::I32: return "i32";
  case DType::I64: return "i64";
  }
  return "?";
}

std::optional<DType> parseDType(std::string_view name) {
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::F8E4M3FN,
                  DType::I32, DType::I64})
    if (dtypeName(t) == name)
      return t;
  return std::nullopt;
}

size_t dtypeSize(DType t) {
  switch (t) {
  case DType::F32: case DType::I32: return 4;
  case DType::F16: case DType::BF16: return 2;
  case DType::F8E4M3FN: return 1;
  case DType::I64: return 8;
  }
  return 0;
}

bool isFloat(DType t) { return t != DType::I32 && t != DType::I64; }

static uint32_t bitsOf(float x) {
  uint32_t b;
  std::memcpy(&b, &x, 4);
  return b;
}

uint16_t floatToBF16Bits(float x) {
  uint32_t b = bitsOf(x);
  if (std::isnan(x))
    return static_cast<uint16_t>((b >> 16) | 0x40); // keep it a quiet NaN
  // Adding 0x7fff plus the lowest kept bit rounds half to even; a carry into
  // the exponent is the correct rounding up (to inf on overflow).
  b += 0x7fffu + ((b >> 16) & 1u);
  return static_cast<uint16_t>(b >> 16);
}

float bf16BitsToFloat(uint16_t bits) {
  uint32_t b = static_cast<uint32_t>(bits) << 16;
  float x;
  std::memcpy(&x, &b, 4);
  return x;
}

namespace {

/// A small binary float format: `manBits` stored mantissa bits, exponent
/// bias `bias`, normal exponents down to `minExp` (subnormals below).
struct MiniFloat {
  int manBits;
  int bias;
  int minExp;
};

constexpr MiniFloat kF16{10, 15, -14};
constexpr MiniFloat kE4M3{3, 7, -6};

/// |a| rounded to nearest-even on the format's grid (unbounded above).
/// Every step is exact in double, so the only rounding is nearbyint's.
double roundMagnitude(double a, const MiniFloat &f) {
  if (a == 0.0)
    return 0.0;
  int e;
  std::frexp(a, &e); // a = m * 2^e, m in [0.5, 1): unbiased exponent e - 1
  int exp = e - 1 < f.minExp ? f.minExp : e - 1;
  double ulp = std::ldexp(1.0, exp - f.manBits);
  return std::nearbyint(a / ulp) * ulp;
}

/// Bits (exponent field << manBits | mantissa) of a magnitude already on the
/// format's grid and within its finite range.
uint32_t encodeOnGrid(double r, const MiniFloat &f) {
  if (r < std::ldexp(1.0, f.minExp)) // subnormal or zero
    return static_cast<uint32_t>(r / std::ldexp(1.0, f.minExp - f.manBits));
  int e;
  double m = std::frexp(r, &e); // r = m * 2^e
  int exp = e - 1;
  uint32_t man = static_cast<uint32_t>((m * 2.0 - 1.0) * (1u << f.manBits));
  return (static_cast<uint32_t>(exp + f.bias) << f.manBits) | man;
}

double decodeFinite(uint32_t expField, uint32_t man, const MiniFloat &f) {
  if (expField == 0)
    return std::ldexp(static_cast<double>(man), f.minExp - f.manBits);
  return std::ldexp(1.0 + std::ldexp(static_cast<double>(man), -f.manBits),
                    static_cast<int>(expField) - f.bias);
}

} // namespace

uint16_t floatToF16Bits(float x) {
  uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  if (std::isnan(x))
    return 0x7e00;
  double r = roundMagnitude(std::fabs(static_cast<double>(x)), kF16);
  if (std::isinf(x) || r > 65504.0)
    return sign | 0x7c00;
  return sign | static_cast<uint16_t>(encodeOnGrid(r, kF16));
}

float f16BitsToFloat(uint16_t bits) {
  uint32_t expField = (bits >> 10) & 0x1f, man = bits & 0x3ff;
  float sign = (bits & 0x8000) ? -1.0f : 1.0f;
  if (expField == 0x1f)
    return man ? NAN : sign * INFINITY;
  return sign * static_cast<float>(decodeFinite(expField, man, kF16));
}

uint8_t floatToF8E4M3FNBits(float x) {
  uint8_t sign = std::signbit(x) ? 0x80 : 0;
  if (std::isnan(x))
    return 0x7f;
  double r = roundMagnitude(std::fabs(static_cast<double>(x)), kE4M3);
  if (std::isinf(x) || r >= kF8E4M3FNMax)
    return sign | 0x7e; // saturate: the format has no infinity
  return sign | static_cast<uint8_t>(encodeOnGrid(r, kE4M3));
}

float f8E4M3FNBitsToFloat(uint8_t bits) {
  uint32_t expField = (bits >> 3) & 0xf, man = bits & 0x7;
  float sign = (bits & 0x80) ? -1.0f : 1.0f;
  if (expField == 0xf && man == 0x7)
    return NAN;
  return sign * static_cast<float>(decodeFinite(expField, man, kE4M3));
}

float roundTo(DType t, float x) {
  switch (t) {
  case DType::F32: return x;
  case DType::F16: return f16BitsToFloat(floatToF16Bits(x));
  case DType::BF16: return bf16BitsToFloat(floatToBF16Bits(x));
  case DType::F8E4M3FN: return f8E4M3FNBitsToFloat(floatToF8E4M3FNBits(x));
  case DType::I32: case DType::I64: break;
  }
  assert(false && "roundTo: integer types have no float rounding");
  return x;
}

} // namespace llmf
