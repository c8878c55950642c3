//===- DType.h - element types and their exact rounding --------*- C++ -*-===//
//
// The element types of the llm dialect as the runtime sees them (no MLIR
// dependency), and bit-exact conversions between f32 and the narrow float
// formats: bf16 and f16 with round-to-nearest-even, fp8 e4m3fn with
// round-to-nearest-even and saturation at +-448 as the spec requires. These
// are the oracle the CUDA kernels are checked against.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_RUNTIME_DTYPE_H
#define LLM_FUSION_RUNTIME_DTYPE_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace llmf {

/// Element types of the `llm` dialect, spelled as MLIR spells them.
enum class DType : uint8_t { F32, F16, BF16, F8E4M3FN, I32, I64 };

/// The MLIR spelling ("bf16", "f8E4M3FN", ...).
std::string_view dtypeName(DType t);
/// Parses the MLIR spelling; nullopt for anything else.
std::optional<DType> parseDType(std::string_view name);
/// Bytes per element.
size_t dtypeSize(DType t);
bool isFloat(DType t);

/// f32 -> bf16 bits, round-to-nearest-even; NaN stays NaN, overflow -> inf.
uint16_t floatToBF16Bits(float x);
float bf16BitsToFloat(uint16_t bits);

/// f32 -> IEEE binary16 bits, round-to-nearest-even with subnormals;
/// overflow -> inf, NaN stays NaN.
uint16_t floatToF16Bits(float x);
float f16BitsToFloat(uint16_t bits);

/// f32 -> fp8 e4m3fn bits, round-to-nearest-even with subnormals, saturating:
/// anything of magnitude >= 448 (infinities too) becomes +-448; NaN -> 0x7f.
uint8_t floatToF8E4M3FNBits(float x);
float f8E4M3FNBitsToFloat(uint8_t bits);

/// Largest finite fp8 e4m3fn magnitude.
inline constexpr float kF8E4M3FNMax = 448.0f;

/// x rounded to the given float type and back: the value a kernel that
/// stores in that type must produce. Identity for F32; integers not allowed.
float roundTo(DType t, float x);

} // namespace llmf

#endif // LLM_FUSION_RUNTIME_DTYPE_H
