// Element types of heed tensors and the bfloat16 conversions.
#ifndef HEED_CORE_TENSOR_DTYPE_H_
#define HEED_CORE_TENSOR_DTYPE_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace heed {

enum class DType : uint8_t { kF32, kBF16, kS8 };

constexpr size_t DTypeSize(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return 4;
    case DType::kBF16:
      return 2;
    case DType::kS8:
      return 1;
  }
  return 0;
}

constexpr std::string_view DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return "f32";
    case DType::kBF16:
      return "bf16";
    case DType::kS8:
      return "s8";
  }
  return "unknown";
}

// bfloat16: the upper 16 bits of an IEEE float32. A distinct type (not a plain
// uint16_t) so that overloads and templates can tell it from integers.
struct bf16 {
  uint16_t bits;
};

inline float Bf16ToFloat(bf16 value) {
  const uint32_t bits = static_cast<uint32_t>(value.bits) << 16;
  float out;
  std::memcpy(&out, &bits, sizeof(out));
  return out;
}

// Round to nearest, ties to even, as vcvtneps2bf16 does; NaN stays a quiet NaN.
inline bf16 FloatToBf16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  if ((bits & 0x7fffffffu) > 0x7f800000u)
    return bf16{static_cast<uint16_t>((bits >> 16) | 0x40)};
  const uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
  return bf16{static_cast<uint16_t>((bits + rounding) >> 16)};
}

template <typename T>
constexpr DType DTypeOf();
template <>
constexpr DType DTypeOf<float>() {
  return DType::kF32;
}
template <>
constexpr DType DTypeOf<bf16>() {
  return DType::kBF16;
}
template <>
constexpr DType DTypeOf<int8_t>() {
  return DType::kS8;
}

}  // namespace heed

#endif  // HEED_CORE_TENSOR_DTYPE_H_
